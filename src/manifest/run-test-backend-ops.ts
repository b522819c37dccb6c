// The edge of op coverage: runs llama.cpp's test-backend-ops (built by scripts/build-peer.sh from the
// source node-llama-cpp ships) for ggml's CPU and Vulkan backends, caches each run by what it depends
// on, and hands the SQL to op-coverage.ts. Vulkan is node-llama-cpp's own libggml-vulkan.so, loaded
// through GGML_BACKEND_PATH, so the shaders tested are the ones conform serve runs.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { mergeOpCoverage, parseTestBackendOpsSql, summarizeOpCoverage } from './op-coverage.ts';
import type { Absent, OpCoverage, OpCoverageDevice, OpCoverageMode, OpCoverageSource } from './types.ts';

/** One test-mode run: an op and a test-backend-ops parameter regex that keeps it to the types a release uses. */
export interface OpTest {
  op: string;
  params?: string;
}

/**
 * The ops a llama decoder runs (the fixture model's graph, flash attention on and off), each limited to
 * the weight and KV types conform's fixture comes in: test mode on llvmpipe runs a few cases a second.
 */
export const DECODER_OP_TESTS: OpTest[] = [
  { op: 'GET_ROWS', params: 'type=(f32|f16|q8_0|q4_0),' },
  { op: 'RMS_NORM' },
  { op: 'MUL', params: 'type=f32,' },
  { op: 'ADD', params: 'type=f32,' },
  { op: 'ROPE', params: 'type=f32,ne_a=\\[64,' },
  { op: 'SOFT_MAX', params: 'type=f32,ne=\\[16,' },
  { op: 'CPY', params: 'type_src=f32,type_dst=(f16|q8_0),' },
  { op: 'SET_ROWS', params: 'type_src=f32,type_dst=(f16|q8_0),' },
  { op: 'SWIGLU', params: 'type=f32,' },
  { op: 'MUL_MAT', params: 'type_a=(f32|f16|q8_0|q4_0),type_b=f32,m=16,n=(1|16),k=256,bs=\\[1,1\\]' },
  { op: 'FLASH_ATTN_EXT', params: 'hsk=64,hsv=64,nh=4,nr23=\\[1,1\\],kv=512,nb=(1|8),mask=1,sinks=0,max_bias=0.000000,logit_softcap=0.000000,prec=f32,type_K=(f16|q8_0)' },
];

export interface TestBackendOpsOptions {
  /** The test-backend-ops binary; undefined when it is not built (coverage is then absent, with the reason). */
  binary: string | undefined;
  /** node-llama-cpp's libggml-vulkan.so; undefined when the Vulkan package is not installed. */
  vulkanLibrary: string | undefined;
  env: NodeJS.ProcessEnv;
  /** Where finished runs are kept: op-coverage/<key>.json. */
  cacheDir: string;
  /** Test-mode runs for a non-CPU device. @default DECODER_OP_TESTS */
  tests?: OpTest[];
  /** Limit per run; a run that passes it keeps the cases it finished and says so. @default 600000 */
  timeoutMs?: number;
  /** Called before each run that is not cached, with what is about to run. */
  onRun?: (line: string) => void;
}

const GGML_NAME: Record<OpCoverageDevice, string> = { cpu: 'CPU', vulkan: 'Vulkan0' };

interface CachedRun {
  summary: OpCoverageMode;
}

function fileStamp(path: string): string {
  const stat = statSync(path);
  return `${path}:${stat.size}:${stat.mtimeMs}`;
}

function lastLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).filter(Boolean).pop() ?? '';
}

/** test-backend-ops behind the OpCoverageSource seam. */
export function createTestBackendOpsSource(options: TestBackendOpsOptions): OpCoverageSource {
  const timeoutMs = options.timeoutMs ?? 600_000;
  // `label` names the run in messages and in `incomplete`: the op of a test run, "support" otherwise.
  const run = async (device: OpCoverageDevice, args: string[], mode: 'support' | 'test', label: string): Promise<OpCoverageMode | Absent> => {
    const binary = options.binary!;
    const env: Record<string, string> = {};
    if (device === 'vulkan') Object.assign(env, { GGML_BACKEND_PATH: options.vulkanLibrary!, GGML_VK_VISIBLE_DEVICES: '0' });
    const command = ['test-backend-ops', ...args.map((a) => (/^[\w.,=/-]+$/.test(a) ? a : `'${a}'`))].join(' ');
    const key = createHash('sha256')
      .update(JSON.stringify([fileStamp(binary), device === 'vulkan' ? fileStamp(options.vulkanLibrary!) : '', args]))
      .digest('hex')
      .slice(0, 24);
    const file = join(options.cacheDir, 'op-coverage', `${key}.json`);
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as CachedRun).summary;
    options.onRun?.(`${device}: ${command}`);
    const result = await execa(binary, args, { env: { ...options.env, ...env }, reject: false, timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024, stdin: 'ignore' });
    const parsed = parseTestBackendOpsSql(String(result.stdout));
    const summary = summarizeOpCoverage(parsed.rows, mode, GGML_NAME[device], command);
    const stderr = lastLine(String(result.stderr)) || 'no message';
    // test mode exits 1 when a case fails, which is a result; a signal or the time limit cuts the run short.
    const cutShort = result.timedOut ? `ran past ${timeoutMs / 1000} s` : result.signal ? `died of ${result.signal}` : mode === 'support' && result.exitCode !== 0 ? `exited ${result.exitCode}` : undefined;
    if (summary.cases === 0) return { absent: `${label}: ${command} ${cutShort ? `${cutShort} with no case finished` : `listed no case for ${GGML_NAME[device]}`} (${stderr})` };
    if (cutShort) summary.incomplete[label] = `${cutShort} after ${summary.cases} cases (${stderr})`;
    if (parsed.unparsed > 0) summary.incomplete[`${label} output`] = `${parsed.unparsed} lines of SQL output could not be read`;
    // A run that was cut short is not cached: the next manifest tries again.
    if (!cutShort) {
      mkdirSync(join(options.cacheDir, 'op-coverage'), { recursive: true });
      const temp = `${file}.${process.pid}.tmp`;
      writeFileSync(temp, `${JSON.stringify({ summary } satisfies CachedRun)}\n`);
      renameSync(temp, file);
    }
    return summary;
  };

  return {
    family: 'llama.cpp',
    async coverage(device) {
      if (!options.binary || !existsSync(options.binary)) return { absent: 'test-backend-ops is not built here: run npm run peer:build (scripts/build-peer.sh), about 10 minutes on 2 cores' };
      if (device === 'vulkan' && (!options.vulkanLibrary || !existsSync(options.vulkanLibrary)))
        return { absent: "node-llama-cpp's Vulkan backend (@node-llama-cpp/linux-x64-vulkan) is not installed here" };
      const ggml = GGML_NAME[device];
      const support = await run(device, ['support', '-b', ggml, '--output', 'sql'], 'support', 'support');
      let test: OpCoverageMode | Absent;
      if (device === 'cpu') test = { absent: "test mode compares each backend with ggml's CPU backend, which is the reference itself" };
      else if ('absent' in support) test = { absent: `not run: ${support.absent}` };
      else {
        const parts: OpCoverageMode[] = [];
        const missing: string[] = [];
        for (const t of options.tests ?? DECODER_OP_TESTS) {
          const part = await run(device, ['test', '-b', ggml, '-o', t.op, ...(t.params ? ['-p', t.params] : []), '--output', 'sql'], 'test', t.op);
          if ('absent' in part) missing.push(`${t.op}: ${part.absent}`);
          else parts.push(part);
        }
        test = parts.length === 0 ? { absent: missing.join('; ') } : mergeOpCoverage(parts);
        if (!('absent' in test)) for (const line of missing) test.incomplete[line.split(':')[0]!] = line.slice(line.indexOf(':') + 2);
      }
      return { support, test } satisfies OpCoverage;
    },
  };
}

/** Where scripts/build-peer.sh puts test-backend-ops for a build folder, or undefined. */
export function testBackendOpsIn(buildFolder: string | undefined): string | undefined {
  if (!buildFolder) return undefined;
  const binary = join(buildFolder, 'bin', 'test-backend-ops');
  return existsSync(binary) ? binary : undefined;
}
