// Benchmark, not a test: what does a 100 MB answer to `max_tokens: 8` cost a whole `conform run`?
//
//   npx tsx bench/body-cap.ts
//
// A loopback server of its own (test/fixtures/servers/huge-body-server.mjs, its own process) answers one chat
// case with a body of a chosen size, whole JSON or a stream, generated as it is written. The real CLI runs
// that one case under /usr/bin/time, which gives the process's peak RSS; the bench also records the sizes of
// samples.jsonl, summary.json and report.html and the verdict. A normal run (a 200-byte answer) in the same
// bench is the yardstick: the ratio of peak RSS, huge over normal, is what the body costs beyond a run's own
// baseline. With the cap it stays near 1; the bodies written are bounded by the cap.
//
// Environment: BENCH_BODY_MB (default 100), BENCH_REPEATS (runs per row, median kept; default 3),
// BENCH_CONFORM_BIN (another checkout's bin/conform.js, to measure a build before the cap),
// BENCH_OUT (default reports/bench-body-cap.json).

import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const bin = resolve(process.env.BENCH_CONFORM_BIN ?? join(root, 'bin', 'conform.js'));
const bodyMb = Number(process.env.BENCH_BODY_MB ?? 100);
const repeats = Number(process.env.BENCH_REPEATS ?? 3);
const outFile = resolve(root, process.env.BENCH_OUT ?? 'reports/bench-body-cap.json');
if (!Number.isFinite(bodyMb) || bodyMb <= 0) throw new Error(`BENCH_BODY_MB must be a positive number, got ${process.env.BENCH_BODY_MB}`);
if (!Number.isInteger(repeats) || repeats < 1) throw new Error(`BENCH_REPEATS must be a positive integer, got ${process.env.BENCH_REPEATS}`);
if (!existsSync('/usr/bin/time')) throw new Error('bench/body-cap.ts needs /usr/bin/time (Debian package "time") to read peak RSS');

interface Server {
  baseUrl: string;
  stop(): void;
}

function startServer(mode: 'json' | 'sse', bytes: number): Promise<Server> {
  const child = spawn(process.execPath, [join(root, 'test', 'fixtures', 'servers', 'huge-body-server.mjs'), '0', mode, String(bytes)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolveServer, reject) => {
    child.stdout.on('data', (data: Buffer) => {
      const match = /listening (\d+)/.exec(data.toString());
      if (match) resolveServer({ baseUrl: `http://127.0.0.1:${match[1]}/v1`, stop: () => child.kill('SIGTERM') });
    });
    child.once('exit', (code) => reject(new Error(`huge-body-server exited (${code}) before listening`)));
  });
}

interface Measure {
  peakRssMb: number;
  wallS: number;
  exitCode: number | null;
  status: string;
  sampleKind: string;
  errorCode?: string;
  files: Record<string, number>;
}

const SUITE = ['suite: huge', 'description: one small case', 'cases:', '  - id: hello', '    messages: [{ role: user, content: Say hello. }]', '    params: { max_tokens: 8, temperature: 0 }', '    checks: [{ kind: exact }]', ''].join('\n');

function runOnce(baseUrl: string): Measure {
  const project = mkdtempSync(join(os.tmpdir(), 'bench-body-cap-'));
  try {
    writeFileSync(join(project, 'conform.config.yaml'), `backends: [{ name: huge, class: cpu, model: huge, baseUrl: "${baseUrl}", maxRetries: 0 }]\nsuites: ["*.suite.yaml"]\n`);
    writeFileSync(join(project, 'huge.suite.yaml'), SUITE);
    const timeFile = join(project, 'time.txt');
    const started = performance.now();
    const result = spawnSync('/usr/bin/time', ['-f', '%M', '-o', timeFile, process.execPath, bin, 'run'], { cwd: project, encoding: 'utf8', maxBuffer: 1024 * 1024 * 1024, env: { ...process.env, CONFORM_CACHE_DIR: join(root, '.cache', 'conform') } });
    const wallS = (performance.now() - started) / 1000;
    const peakKb = Number(spawnSync('tail', ['-n', '1', timeFile], { encoding: 'utf8' }).stdout.trim());
    const runsDir = join(project, 'reports');
    const runDir = existsSync(runsDir) ? readdirSync(runsDir).map((d) => join(runsDir, d)).find((d) => statSync(d).isDirectory()) : undefined;
    const files: Record<string, number> = {};
    for (const name of ['samples.jsonl', 'summary.json', 'report.html']) if (runDir && existsSync(join(runDir, name))) files[name] = statSync(join(runDir, name)).size;
    const { status, sampleKind, errorCode } = verdictOf(runDir ? join(runDir, 'summary.json') : undefined, result.stderr);
    return { peakRssMb: peakKb / 1024, wallS, exitCode: result.status, status, sampleKind, ...(errorCode ? { errorCode } : {}), files };
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
}

// A summary of a few hundred MB (what an uncapped build writes) is not parsed whole: its head holds the result's status and kind.
function verdictOf(file: string | undefined, stderr: string): { status: string; sampleKind: string; errorCode?: string } {
  if (!file || !existsSync(file)) return { status: 'none', sampleKind: `no summary.json; stderr: ${stderr.trim().split('\n').at(-1) ?? ''}` };
  if (statSync(file).size < 64 * 1024 * 1024) {
    const summary = JSON.parse(readFileSync(file, 'utf8')) as { results: Array<{ status: string; sample?: { kind: string; error?: { code?: string } } }> };
    const first = summary.results[0];
    return { status: first?.status ?? '?', sampleKind: first?.sample?.kind ?? '?', ...(first?.sample?.error?.code ? { errorCode: first.sample.error.code } : {}) };
  }
  const fd = openSync(file, 'r');
  const head = Buffer.alloc(64 * 1024);
  readSync(fd, head, 0, head.length, 0);
  closeSync(fd);
  const text = head.toString('utf8');
  return { status: /"caseId":\s*"hello",\s*"status":\s*"(\w+)"/.exec(text)?.[1] ?? '?', sampleKind: /"sample":\s*\{\s*"kind":\s*"([\w-]+)"/.exec(text)?.[1] ?? '?' };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2;
};

async function measure(mode: 'json' | 'sse', bytes: number): Promise<Measure & { runsPeakRssMb: number[] }> {
  const server = await startServer(mode, bytes);
  try {
    const runs = Array.from({ length: repeats }, () => runOnce(server.baseUrl));
    const peaks = runs.map((r) => r.peakRssMb);
    const mid = runs.find((r) => r.peakRssMb === median(peaks)) ?? runs[0]!;
    return { ...mid, peakRssMb: median(peaks), runsPeakRssMb: peaks };
  } finally {
    server.stop();
  }
}

const mb = (n: number | undefined): string => (n === undefined ? '—' : (n / 1024 / 1024).toFixed(2));

async function main(): Promise<void> {
  const rows = [];
  for (const mode of ['json', 'sse'] as const) {
    const normal = await measure(mode, 200);
    const huge = await measure(mode, bodyMb * 1024 * 1024);
    rows.push({ mode, normal, huge, peakRssRatio: huge.peakRssMb / normal.peakRssMb });
  }
  console.log(`conform run, one case, against a ${bodyMb} MB answer (${bin}); median of ${repeats}`);
  console.log('mode  body     peak RSS MB  ratio  exit  status  kind/code                        samples.jsonl  summary.json  report.html (MB)  wall s');
  for (const r of rows) {
    for (const [label, m] of [['200 B', r.normal], [`${bodyMb} MB`, r.huge]] as const) {
      console.log(
        `${r.mode.padEnd(5)} ${label.padEnd(8)} ${m.peakRssMb.toFixed(1).padStart(11)}  ${(m === r.huge ? r.peakRssRatio.toFixed(2) : '1.00').padStart(5)}  ${String(m.exitCode).padStart(4)}  ${m.status.padEnd(6)}  ${`${m.sampleKind}${m.errorCode ? `/${m.errorCode}` : ''}`.padEnd(31)}  ${mb(m.files['samples.jsonl']).padStart(13)}  ${mb(m.files['summary.json']).padStart(12)}  ${mb(m.files['report.html']).padStart(11)}  ${m.wallS.toFixed(1).padStart(6)}`,
      );
    }
  }
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, `${JSON.stringify({ bin, bodyMb, repeats, loadavg: os.loadavg(), rows }, null, 2)}\n`);
  console.log(`written to ${outFile}`);
}

await main();
