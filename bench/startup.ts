// Benchmark, not a test: how long conform takes to start, against a bare `node -e 0` timed in the same run.
//
//   npm run bench:startup     (or: npx tsx bench/startup.ts)
//
// Each variant is a fresh process, timed from spawn to exit; the variants take turns within every
// round, so a busy moment of the shared machine lands on all of them alike, and the ratio to
// `node -e 0` is the figure to compare across machines. Variants:
//   node -e 0                     the yardstick: Node's own start
//   conform --version, --help     bin/conform.js on dist/ (what an installed package runs; goal < 0.3 s)
//   conform run --help            loads the run command and its imports, without running anything
//   --version from source         src/ through tsx, as a clone runs when dist/ is missing or older than src/
//
// Environment: BENCH_N (rounds, default 15), BENCH_OUT (default reports/bench-startup.json), and
// BENCH_OTHER_BIN: another checkout's bin/conform.js (an older commit, say) timed alongside, for a before/after.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { envInt } from './bench-env.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'conform.js');
const GOAL_S = 0.3;

/** The same rule bin/conform.js applies: dist/ runs only when its stamp is newer than everything under src/. */
function distIsCurrent(): boolean {
  const stamp = join(root, 'dist', '.built');
  if (!existsSync(stamp)) return false;
  const src = join(root, 'src');
  let newest = statSync(src).mtimeMs;
  for (const entry of readdirSync(src, { recursive: true })) newest = Math.max(newest, statSync(join(src, String(entry))).mtimeMs);
  return statSync(stamp).mtimeMs >= newest;
}

const fromSource = `import { register } from 'tsx/esm/api'; register();
const { main } = await import(${JSON.stringify(pathToFileURL(join(root, 'src', 'cli', 'main.ts')).href)});
process.exitCode = await main(['--version']);`;

const VARIANTS: Array<{ name: string; args: string[]; goal?: boolean }> = [
  { name: 'node -e 0', args: ['-e', '0'] },
  { name: 'conform --version', args: [bin, '--version'], goal: true },
  { name: 'conform --help', args: [bin, '--help'], goal: true },
  { name: 'conform run --help', args: [bin, 'run', '--help'] },
  { name: '--version from source (tsx)', args: ['--input-type=module', '-e', fromSource] },
];
const otherBin = process.env.BENCH_OTHER_BIN;
if (otherBin)
  VARIANTS.push(
    { name: 'other --version', args: [resolve(otherBin), '--version'] },
    { name: 'other --help', args: [resolve(otherBin), '--help'] },
    { name: 'other run --help', args: [resolve(otherBin), 'run', '--help'] },
  );

function timeOnce(args: string[]): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  const elapsed = (performance.now() - started) / 1000;
  if (result.status !== 0) throw new Error(`node ${args.slice(0, 2).join(' ')} exited ${result.status}: ${result.stderr}`);
  return elapsed;
}

function quantile(sorted: number[], q: number): number {
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  return sorted[low]! + (sorted[Math.ceil(at)]! - sorted[low]!) * (at - low);
}

if (!distIsCurrent()) {
  process.stderr.write('bench/startup: dist/ is missing or older than src/, so bin/conform.js would run the sources; run "npm run build" first\n');
  process.exit(2);
}
const rounds = envInt('BENCH_N', 15);
const times = VARIANTS.map(() => [] as number[]);
for (const variant of VARIANTS) timeOnce(variant.args); // warm the file cache and tsx's compile cache
for (let round = 0; round < rounds; round++) VARIANTS.forEach((variant, i) => times[i]!.push(timeOnce(variant.args)));

const baseline = quantile([...times[0]!].sort((a, b) => a - b), 0.5);
const rows = VARIANTS.map((variant, i) => {
  const sorted = [...times[i]!].sort((a, b) => a - b);
  const median = quantile(sorted, 0.5);
  return { variant: variant.name, medianS: median, p90S: quantile(sorted, 0.9), ratioToNode: median / baseline, meetsGoal: variant.goal ? median < GOAL_S : undefined };
});

process.stdout.write(`conform start-up, ${rounds} rounds, ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(2)}, Node ${process.version}\n\n`);
process.stdout.write(`${'variant'.padEnd(30)}${'median s'.padStart(10)}${'p90 s'.padStart(10)}${'× node -e 0'.padStart(13)}\n`);
for (const row of rows)
  process.stdout.write(
    `${row.variant.padEnd(30)}${row.medianS.toFixed(3).padStart(10)}${row.p90S.toFixed(3).padStart(10)}${row.ratioToNode.toFixed(1).padStart(13)}${row.meetsGoal === undefined ? '' : row.meetsGoal ? `  < ${GOAL_S} s goal` : `  over the ${GOAL_S} s goal`}\n`,
  );
const out = resolve(root, process.env.BENCH_OUT ?? 'reports/bench-startup.json');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify({ rounds, node: process.version, cores: os.cpus().length, loadAverage: os.loadavg()[0], rows }, null, 2)}\n`);
process.stdout.write(`\n${out}\n`);
