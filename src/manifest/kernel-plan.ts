// The kernel plan a launch sets, read from its arguments: conform serve's flags and llama-server's,
// each with the engine's own default for what the arguments leave out. Pure.

import type { BackendConfig } from '../core/types.ts';
import type { KernelPlan, Precision } from './types.ts';

/** The value after the first of `flags` in args, or undefined. */
function flagValue(args: readonly string[], ...flags: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i]!.split('=', 2) as [string, string | undefined];
    if (flags.includes(flag)) return inline ?? args[i + 1];
  }
  return undefined;
}

const int = (text: string | undefined): number | null => (text !== undefined && /^\d+$/.test(text) ? Number(text) : null);

type Engine = 'conform-serve' | 'llama-server';

function engineOf(backend: BackendConfig): Engine | undefined {
  const launch = backend.launch;
  if (!launch) return undefined;
  if (launch.command === 'conform' && launch.args[0] === 'serve') return 'conform-serve';
  if (/(^|\/)llama-server$/.test(launch.command)) return 'llama-server';
  return undefined;
}

const EMPTY: Omit<KernelPlan, 'source' | 'launchArgs'> = { flashAttention: null, batchSize: null, microBatchSize: null, threads: null, parallel: null, contextSize: null, gpuLayers: null };

/** Flash attention, batch and micro-batch, threads, parallel sequences, context and GPU layers as the launch sets them. */
export function kernelPlanOf(backend: BackendConfig): KernelPlan {
  const args = backend.launch?.args ?? [];
  const engine = engineOf(backend);
  if (!backend.launch) return { ...EMPTY, launchArgs: [], source: 'not launched by conform (baseUrl): the server keeps its plan to itself' };
  if (!engine) return { ...EMPTY, launchArgs: [...args], source: `launch args of ${backend.launch.command}, an engine whose flags conform does not read` };
  if (engine === 'conform-serve') {
    // Defaults as conform serve and node-llama-cpp 3.21.1 apply them (serve --help, AddonContext: n_ubatch = n_batch).
    const batch = int(flagValue(args, '--batch-size')) ?? 512;
    return {
      flashAttention: (flagValue(args, '--flash-attention') ?? 'on') === 'on',
      batchSize: batch,
      microBatchSize: batch,
      threads: int(flagValue(args, '--threads')) ?? 1,
      parallel: int(flagValue(args, '--parallel')) ?? 1,
      contextSize: int(flagValue(args, '--context-size')),
      gpuLayers: (flagValue(args, '--gpu') ?? 'cpu') === 'cpu' ? '0' : 'all',
      launchArgs: [...args],
      source: 'conform serve launch args, with its defaults for the rest (batch 512, micro-batch = batch, threads 1, parallel 1, flash attention on)',
    };
  }
  const fa = flagValue(args, '-fa', '--flash-attn');
  return {
    // This llama.cpp takes -fa on|off|auto, and defaults to auto: decided at load, and not reported.
    flashAttention: fa === 'on' ? true : fa === 'off' ? false : null,
    batchSize: int(flagValue(args, '-b', '--batch-size')) ?? 2048,
    microBatchSize: int(flagValue(args, '-ub', '--ubatch-size')) ?? 512,
    threads: int(flagValue(args, '-t', '--threads')),
    parallel: int(flagValue(args, '-np', '--parallel')),
    contextSize: int(flagValue(args, '-c', '--ctx-size')),
    gpuLayers: flagValue(args, '-ngl', '--n-gpu-layers', '--gpu-layers') ?? null,
    launchArgs: [...args],
    source: "llama-server launch args, with llama.cpp's defaults for batch (2048) and micro-batch (512); flash attention 'auto' is shown as null",
  };
}

/** KV cache types as the launch sets them, or the engine's documented default (F16 in llama.cpp and node-llama-cpp). */
export function kvCacheOf(backend: BackendConfig): Precision['kvCache'] {
  const args = backend.launch?.args ?? [];
  const engine = engineOf(backend);
  if (!engine) return { absent: backend.launch ? `launch args of ${backend.launch.command} are not read by conform` : 'not launched by conform (baseUrl): the server does not report its KV cache type' };
  const upper = (t: string | undefined) => (t ?? 'f16').toUpperCase();
  if (engine === 'conform-serve') {
    const t = flagValue(args, '--kv-cache-type');
    return { key: upper(t), value: upper(t), source: t ? 'launch args (--kv-cache-type)' : 'conform serve default (llama.cpp F16)' };
  }
  const k = flagValue(args, '-ctk', '--cache-type-k');
  const v = flagValue(args, '-ctv', '--cache-type-v');
  return { key: upper(k), value: upper(v), source: k || v ? 'launch args (-ctk/-ctv)' : 'llama.cpp default (F16)' };
}
