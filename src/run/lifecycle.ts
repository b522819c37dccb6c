import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackendConfig, Case, Sample } from '../core/types.ts';
import { launchBackend } from '../launch/launch-backend.ts';
import { createOpenAiHttpRunner } from '../runners/openai-http-runner.ts';
import { startLoadMeter } from '../launch/load-meter.ts';

export interface LifecycleOptions {
  modelPath: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
  healthPath?: string;
  signal?: AbortSignal;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2 : NaN;
};

function failed(kind: Sample['kind'], message: string, endMs: number): Sample {
  return { kind, text: '', tokens: [], toolCalls: [], finishReason: null, timings: { chunkMs: [], endMs }, startedAt: new Date().toISOString(), streamed: true, deviations: [], retries: 0, error: { message } };
}

/**
 * Starts a fresh process of a launched backend and measures how it comes up. A cold start gets
 * an empty Mesa shader cache, so Vulkan recompiles every pipeline as on a new machine.
 */
export async function runLifecycleCase(backend: BackendConfig, testCase: Case, options: LifecycleOptions): Promise<Sample> {
  const spec = testCase.lifecycle!;
  const started = performance.now();
  const coldCache = spec.start === 'cold' ? mkdtempSync(join(tmpdir(), 'conform-mesa-cold-')) : undefined;
  const env = coldCache ? { ...options.env, MESA_SHADER_CACHE_DIR: coldCache } : options.env;
  // Measured from before the spawn to the last steady answer, so each phase's CPU wait can be taken out of it.
  const meter = startLoadMeter();
  try {
    const outcome = await launchBackend(backend, { modelPath: options.modelPath, logFile: options.logFile, env, healthPath: options.healthPath, signal: options.signal });
    const answeredAt = performance.now();
    if (outcome.state !== 'ready') return failed('crash', `${spec.start} start failed: ${outcome.reason}`, answeredAt - started);
    try {
      const runner = createOpenAiHttpRunner({ backend: backend.name, baseUrl: outcome.backend.baseUrl, model: backend.model });
      const probe: Case = { ...testCase, endpoint: 'chat', params: { ...testCase.params, stream: true }, lifecycle: undefined };
      const steadyFrom = performance.now();
      const steady: Sample[] = [];
      for (let i = 0; i < (spec.steadyRequests ?? 5); i++) steady.push(await runner.run(probe, { signal: options.signal }));
      const steadyTo = performance.now();
      const bad = steady.find((s) => s.kind !== 'ok');
      if (bad) return bad;
      const steadyTtftMs = steady.map((s) => s.timings.firstTokenMs ?? s.timings.endMs);
      const { spawnToHealthyMs = NaN, healthyToFirstAnswerMs = NaN, firstAnswerTtftMs = NaN } = outcome.backend.coldStart;
      // The launcher reports durations, not instants; it returns as soon as the first answer is in.
      const healthyAt = answeredAt - healthyToFirstAnswerMs;
      const spawnedAt = healthyAt - spawnToHealthyMs;
      const whole = meter.stop();
      const machine = whole && Number.isFinite(spawnedAt)
        ? { ...whole, phases: { spawnToHealthyMs: meter.window(spawnedAt, healthyAt), healthyToFirstAnswerMs: meter.window(healthyAt, answeredAt), steadyMs: meter.window(steadyFrom, steadyTo) } }
        : whole;
      const last = steady.at(-1)!;
      return {
        ...last,
        lifecycle: { start: spec.start, spawnToHealthyMs, healthyToFirstAnswerMs, firstAnswerTtftMs, steadyTtftMs, firstOverSteady: firstAnswerTtftMs / median(steadyTtftMs) },
        ...(machine ? { machine } : {}),
      };
    } finally {
      await outcome.backend.stop();
    }
  } finally {
    meter.stop();
    if (coldCache) rmSync(coldCache, { recursive: true, force: true });
  }
}
