// Benchmark, not a test: how conform's cost grows with the number of cases (issue 11).
//
//   npm run bench:scale     (or: npx tsx bench/scale.ts)
//
// For each size N it generates N greedy chat cases (max_tokens 16, one max-tokens check each, no golden) and
// a config with one baseUrl backend at concurrency 4 pointing at the zero-delay server (bench/zero-delay-
// server.ts, its own process), runs `node bin/conform.js run` as a child process, and measures: wall time,
// CPU time (user + sys of the conform process), CPU ms per case, peak RSS, the size of summary.json,
// samples.jsonl and report.html, the request rate while sending (server-side: requests ÷ first arrival to
// last answer), where the wall time went (up: spawn to the first request; send: the sending phase; after:
// the last answer to exit, i.e. what is left of judging, and the reports), and how long headless Chromium
// (/usr/bin/chromium) takes to open report.html.
// Baselines measured in the same run: `node -e 0` (wall, CPU and RSS of a bare Node process), and the
// smallest size, against which the largest one's RSS and CPU per case show whether they stay flat.
//
// Environment: BENCH_SIZES (default 200,2000,10000), BENCH_STREAM=1 (streamed cases), BENCH_CONCURRENCY
// (default 4), BENCH_BIN (another checkout's bin/conform.js, timed at each size right after this one, for a
// before/after), BENCH_OUT (default reports/bench-scale.json).

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { envInt } from './bench-env.ts';
import { root, runConform, timedNode, type ConformRunResult } from './conform-run.ts';
import { startPageOpener, type PageOpen } from './open-in-chromium.ts';
import { serverRate, startZeroDelayServer } from './zero-delay.ts';

export interface ScaleRow extends Omit<ConformRunResult, 'dir' | 'runDir' | 'stderrTail'> {
  build: 'this' | 'other';
  bin: string;
  /** Requests per second while sending, as the zero-delay server counted them. */
  serverRate: number | null;
  /** Where the wall time went: spawn → first request (start-up, suite and config), the sending phase, last answer → exit (judging the rest, reports). */
  phasesS: { beforeFirstRequest: number; sending: number; afterLastAnswer: number } | null;
  reportOpen: PageOpen | null;
}

export interface ScaleReport {
  bench: 'scale';
  recordedAt: string;
  node: string;
  cpus: number;
  loadAvgBefore: number[];
  loadAvgAfter: number[];
  concurrency: number;
  stream: boolean;
  baseline: { nodeE0WallS: number; nodeE0CpuMs: number; nodeE0RssMb: number };
  rows: ScaleRow[];
  /** This build, largest size over smallest: 1 is flat. */
  flatness: { from: number; to: number; rssRatio: number; cpuPerCaseRatio: number; marginalCpuMsPerCase: number } | null;
}

const sizes = (process.env.BENCH_SIZES ?? '200,2000,10000').split(',').map((s) => {
  const n = Number(s.trim());
  if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_SIZES must be comma-separated positive integers, got ${process.env.BENCH_SIZES}`);
  return n;
});
const stream = process.env.BENCH_STREAM === '1';
const concurrency = envInt('BENCH_CONCURRENCY', 4);
const bins: Array<{ build: 'this' | 'other'; bin: string }> = [{ build: 'this', bin: join(root, 'bin', 'conform.js') }];
if (process.env.BENCH_BIN) bins.push({ build: 'other', bin: resolve(process.env.BENCH_BIN) });
const outFile = resolve(root, process.env.BENCH_OUT ?? 'reports/bench-scale.json');

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const fmt = (v: number | null | undefined, digits = 2) => (v === null || v === undefined || Number.isNaN(v) ? '—' : v.toFixed(digits));
const kib = (bytes: number | null) => (bytes === null ? '—' : (bytes / 1024).toFixed(0));

async function nodeBaseline(): Promise<ScaleReport['baseline']> {
  const runs = [];
  for (let i = 0; i < 5; i++) runs.push(await timedNode(['-e', '0'], root));
  return {
    nodeE0WallS: median(runs.map((r) => r.wallS)),
    nodeE0CpuMs: median(runs.map((r) => (r.rusage ? (r.rusage.userCPUTime + r.rusage.systemCPUTime) / 1000 : NaN))),
    nodeE0RssMb: median(runs.map((r) => (r.rusage ? r.rusage.maxRSS / 1024 : NaN))),
  };
}

async function main(): Promise<void> {
  const loadAvgBefore = os.loadavg();
  const server = await startZeroDelayServer();
  const opener = await startPageOpener();
  const rows: ScaleRow[] = [];
  try {
    const baseline = await nodeBaseline();
    process.stdout.write(`conform scale, ${stream ? 'streamed' : 'non-streamed'}, concurrency ${concurrency}, ${os.cpus().length} cores, load ${loadAvgBefore.map((l) => l.toFixed(2)).join(' ')}, Node ${process.version}\n`);
    process.stdout.write(`baseline node -e 0: ${fmt(baseline.nodeE0WallS, 3)} s wall, ${fmt(baseline.nodeE0CpuMs, 0)} ms CPU, ${fmt(baseline.nodeE0RssMb, 0)} MB RSS\n\n`);
    const header = `${'build'.padEnd(6)}${'cases'.padStart(7)}${'exit'.padStart(5)}${'wall s'.padStart(8)}${'up/send/after s'.padStart(17)}${'CPU s'.padStart(7)}${'CPU ms/case'.padStart(12)}${'RSS MB'.padStart(8)}${'req/s'.padStart(7)}${'summary KiB'.padStart(12)}${'journal KiB'.padStart(12)}${'html KiB'.padStart(9)}${'html load ms'.padStart(13)}`;
    process.stdout.write(`${header}\n${'─'.repeat(header.length)}\n`);
    for (const cases of sizes) {
      for (const { build, bin } of bins) {
        await server.stats(true);
        const result = await runConform({ bin, cases, stream, baseUrl: server.baseUrl, concurrency, keep: true });
        const stats = await server.stats(true);
        let reportOpen: PageOpen | null = null;
        try {
          if (opener && result.runDir && result.bytes.reportHtml !== null) reportOpen = await opener.open(join(result.runDir, 'report.html'));
        } finally {
          rmSync(result.dir, { recursive: true, force: true });
        }
        const { dir: _dir, runDir: _runDir, stderrTail, ...figures } = result;
        const phasesS =
          stats.firstArrivalMs !== null && stats.lastEndMs !== null
            ? { beforeFirstRequest: (stats.firstArrivalMs - result.spawnedAtMs) / 1000, sending: (stats.lastEndMs - stats.firstArrivalMs) / 1000, afterLastAnswer: (result.exitedAtMs - stats.lastEndMs) / 1000 }
            : null;
        const row: ScaleRow = { build, bin, ...figures, serverRate: serverRate(stats), phasesS, reportOpen };
        rows.push(row);
        process.stdout.write(
          `${build.padEnd(6)}${String(cases).padStart(7)}${String(row.exitCode).padStart(5)}${fmt(row.wallS).padStart(8)}${(phasesS ? `${fmt(phasesS.beforeFirstRequest, 1)}/${fmt(phasesS.sending, 1)}/${fmt(phasesS.afterLastAnswer, 1)}` : '—').padStart(17)}${fmt(row.cpuUserS + row.cpuSysS).padStart(7)}${fmt(row.cpuMsPerCase, 3).padStart(12)}${fmt(row.peakRssMb, 0).padStart(8)}${fmt(row.serverRate, 0).padStart(7)}${kib(row.bytes.summaryJson).padStart(12)}${kib(row.bytes.samplesJsonl).padStart(12)}${kib(row.bytes.reportHtml).padStart(9)}${fmt(reportOpen?.loadMs, 0).padStart(13)}\n`,
        );
        if (row.exitCode !== 0 || row.results !== cases) process.stdout.write(`  ${build} at ${cases}: exit ${row.exitCode}, ${row.results} results, ${row.passed} passed; stderr: ${stderrTail.trim().split('\n').slice(-3).join(' | ')}\n`);
      }
    }
    const mine = rows.filter((r) => r.build === 'this');
    const small = mine[0];
    const large = mine.at(-1);
    const flatness =
      small && large && large.cases > small.cases
        ? {
            from: small.cases,
            to: large.cases,
            rssRatio: large.peakRssMb / small.peakRssMb,
            cpuPerCaseRatio: large.cpuMsPerCase / small.cpuMsPerCase,
            marginalCpuMsPerCase: ((large.cpuUserS + large.cpuSysS - small.cpuUserS - small.cpuSysS) * 1000) / (large.cases - small.cases),
          }
        : null;
    if (flatness)
      process.stdout.write(
        `\n${flatness.from} → ${flatness.to} cases: peak RSS ×${fmt(flatness.rssRatio)}, CPU per case ×${fmt(flatness.cpuPerCaseRatio)}, marginal CPU ${fmt(flatness.marginalCpuMsPerCase, 3)} ms per extra case\n`,
      );
    const report: ScaleReport = { bench: 'scale', recordedAt: new Date().toISOString(), node: process.version, cpus: os.cpus().length, loadAvgBefore, loadAvgAfter: os.loadavg(), concurrency, stream, baseline, rows, flatness };
    mkdirSync(dirname(outFile), { recursive: true });
    writeFileSync(outFile, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`load average at the end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n${outFile}\n`);
    if (rows.some((r) => r.exitCode !== 0 || r.results !== r.cases)) process.exitCode = 1;
  } finally {
    await opener?.close();
    server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
