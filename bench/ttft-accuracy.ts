// Benchmark, not a test: is the TTFT conform measures within 2 ms of the truth at p99?
//
//   npm run bench:ttft       (or: npx tsx bench/ttft-accuracy.ts; npm run bench runs it with the others)
//
// A loopback SSE server (bench/ttft-server.ts, its own process) sends a role-only chunk at once, waits a known
// delay D, writes the first content chunk and records when that write returned: the truth, measured on the
// server from the request's arrival. Two clients (bench/ttft-client.ts, one process each) send N streaming
// requests per delay, one at a time: conform's HTTP runner, and a bare undici client that only timestamps
// network reads. Error = measured firstTokenMs − true first-write offset; it is what the client adds
// (sending the request, loopback delivery both ways, its own event loop), and also shown against nominal D.
//
// The machine is shared and noisy, so absolute figures drift between runs; the bare client, measured in the
// same run at the same time, is the yardstick: the runner's overhead is its difference from the bare client.
// Both clients run at once, each in its own process, so they see the same noise without sharing an event loop.
// BENCH_SEQUENTIAL=1 runs them one after the other instead (quieter, twice as long).
//
// Environment: BENCH_N (per delay, default 200), BENCH_DELAYS (ms, default 20,50,100), BENCH_WARMUP
// (default 10), BENCH_SEQUENTIAL, BENCH_OUT (default reports/bench-ttft-accuracy.json).

import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { latencyStats, type LatencyStats } from '../src/core/latency.ts';
import type { ClientDone, ClientKind, ClientPlan, Measurement } from './ttft-client.ts';
import type { ServerReady } from './ttft-server.ts';

const THRESHOLD_MS = 2;
const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got ${raw}`);
  return value;
}

const perDelay = envInt('BENCH_N', 200);
const warmup = envInt('BENCH_WARMUP', 10);
const delaysMs = (process.env.BENCH_DELAYS ?? '20,50,100').split(',').map((d) => {
  const n = Number(d.trim());
  if (!Number.isInteger(n) || n < 0) throw new Error(`BENCH_DELAYS must be comma-separated integers, got ${process.env.BENCH_DELAYS}`);
  return n;
});
const sequential = process.env.BENCH_SEQUENTIAL === '1';
const outFile = resolve(root, process.env.BENCH_OUT ?? 'reports/bench-ttft-accuracy.json');

function child(file: string): ChildProcess {
  const proc = fork(resolve(here, file), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return proc;
}

function nextMessage<T>(proc: ChildProcess, what: string): Promise<T> {
  return new Promise((resolveMessage, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`${what} exited (${code}) before answering`));
    proc.once('exit', onExit);
    proc.once('message', (message) => {
      proc.off('exit', onExit);
      resolveMessage(message as T);
    });
  });
}

async function runClient(kind: ClientKind, port: number): Promise<ClientDone> {
  const proc = child('ttft-client.ts');
  const done = nextMessage<ClientDone>(proc, `${kind} client`);
  const plan: ClientPlan = { kind, port, delaysMs, perDelay, warmup };
  proc.send(plan);
  return done;
}

interface Row {
  delayMs: number | 'all';
  client: ClientKind;
  n: number;
  failed: number;
  firstFailure?: string;
  /** measured firstTokenMs − server's true first-write offset. */
  errorVsTruthMs: LatencyStats;
  /** measured firstTokenMs − nominal D (includes the server's timer lateness). */
  errorVsNominalMs: LatencyStats;
  /** server's true first-write offset − nominal D: how late the server's timer fired. */
  serverLatenessMs: LatencyStats;
}

function row(client: ClientKind, delayMs: number | 'all', measurements: Measurement[]): Row {
  const ok = measurements.filter((m): m is Measurement & { measuredMs: number; trueMs: number } => m.ok && m.measuredMs !== undefined && m.trueMs !== undefined);
  const failed = measurements.filter((m) => !m.ok);
  const result: Row = {
    delayMs,
    client,
    n: ok.length,
    failed: failed.length,
    errorVsTruthMs: latencyStats(ok.map((m) => m.measuredMs - m.trueMs)),
    errorVsNominalMs: latencyStats(ok.map((m) => m.measuredMs - m.delayMs)),
    serverLatenessMs: latencyStats(ok.map((m) => m.trueMs - m.delayMs)),
  };
  if (failed[0]?.error !== undefined) result.firstFailure = failed[0].error;
  return result;
}

const f = (v: number | null, width = 7): string => (v === null ? '—' : v.toFixed(3)).padStart(width);
const diff = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : a - b);

async function main(): Promise<void> {
  const started = performance.now();
  const load0 = os.loadavg();
  const server = child('ttft-server.ts');
  try {
    const ready = await nextMessage<ServerReady>(server, 'server');
    const clients: ClientDone[] = sequential
      ? [await runClient('runner', ready.port), await runClient('bare', ready.port)]
      : await Promise.all([runClient('runner', ready.port), runClient('bare', ready.port)]);
    const byKind = new Map(clients.map((c) => [c.kind, c] as const));

    const rows: Row[] = [];
    for (const delayMs of [...delaysMs, 'all' as const]) {
      for (const kind of ['runner', 'bare'] as const) {
        const all = byKind.get(kind)!.measurements;
        rows.push(row(kind, delayMs, delayMs === 'all' ? all : all.filter((m) => m.delayMs === delayMs)));
      }
    }
    const overhead = [...delaysMs, 'all' as const].map((delayMs) => {
      const runner = rows.find((r) => r.delayMs === delayMs && r.client === 'runner')!.errorVsTruthMs;
      const bare = rows.find((r) => r.delayMs === delayMs && r.client === 'bare')!.errorVsTruthMs;
      return {
        delayMs,
        p50DiffMs: diff(runner.p50, bare.p50),
        p99DiffMs: diff(runner.p99, bare.p99),
        p99Ratio: runner.p99 !== null && bare.p99 !== null && bare.p99 > 0 ? runner.p99 / bare.p99 : null,
      };
    });
    const runnerRows = rows.filter((r) => r.client === 'runner' && r.delayMs !== 'all');
    const worstRunnerP99 = Math.max(...runnerRows.map((r) => r.errorVsTruthMs.p99 ?? Number.POSITIVE_INFINITY));
    const withinThreshold = worstRunnerP99 <= THRESHOLD_MS;
    const wallS = (performance.now() - started) / 1000;

    // Table.
    const header = `${'delay'.padStart(6)} ${'client'.padEnd(7)} ${'n'.padStart(4)} │ ${'p50'.padStart(7)} ${'p90'.padStart(7)} ${'p99'.padStart(7)} ${'max'.padStart(7)} │ ${'vsD p50'.padStart(7)} ${'vsD p99'.padStart(7)} │ ${'late p99'.padStart(8)}`;
    console.log(`\nTTFT error, ms: measured firstTokenMs − server's true first-content write (vsD: − nominal delay; late: server timer lateness)`);
    console.log(`N=${perDelay}/delay, warm-up ${warmup}, ${ready.contentChunks} content chunks ${ready.gapMs} ms apart, clients ${sequential ? 'one after the other' : 'at once, one process each'}`);
    console.log(header);
    console.log('─'.repeat(header.length));
    for (const r of rows) {
      const e = r.errorVsTruthMs;
      const d = r.errorVsNominalMs;
      const label = r.delayMs === 'all' ? 'all' : `${r.delayMs}ms`;
      const failed = r.failed > 0 ? `  (${r.failed} failed: ${r.firstFailure ?? '?'})` : '';
      console.log(`${label.padStart(6)} ${r.client.padEnd(7)} ${String(r.n).padStart(4)} │ ${f(e.p50)} ${f(e.p90)} ${f(e.p99)} ${f(e.max)} │ ${f(d.p50)} ${f(d.p99)} │ ${f(r.serverLatenessMs.p99, 8)}${failed}`);
      if (r.client === 'bare' && r.delayMs !== 'all') console.log('');
    }
    console.log('\nRunner overhead over the bare client (error vs truth):');
    for (const o of overhead) {
      const label = o.delayMs === 'all' ? 'all' : `${o.delayMs}ms`;
      console.log(`${label.padStart(6)}  p50 ${f(o.p50DiffMs)} ms   p99 ${f(o.p99DiffMs)} ms   p99 ratio ${o.p99Ratio === null ? '—' : o.p99Ratio.toFixed(2)}×`);
    }
    const p50OverheadMs = overhead.find((o) => o.delayMs === 'all')!.p50DiffMs;
    console.log(
      `\nWorst runner p99 error over delays: ${worstRunnerP99.toFixed(3)} ms → ${withinThreshold ? 'WITHIN' : 'NOT within'} ${THRESHOLD_MS} ms; p50 overhead over the bare undici client ${p50OverheadMs === null ? '—' : p50OverheadMs.toFixed(3)} ms`,
    );
    console.log(`load average ${load0.map((l) => l.toFixed(2)).join(' ')} → ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} on ${os.cpus().length} CPUs; ${wallS.toFixed(1)} s`);

    const report = {
      bench: 'ttft-accuracy',
      question: `Is conform's measured TTFT within ${THRESHOLD_MS} ms of the truth at p99?`,
      answer: withinThreshold,
      thresholdMs: THRESHOLD_MS,
      worstRunnerP99Ms: worstRunnerP99,
      /** Runner p50 error − bare client p50 error, all delays together: what conform adds to a TTFT at the median. */
      p50OverheadMs,
      recordedAt: new Date().toISOString(),
      environment: { node: process.version, platform: `${os.platform()} ${os.release()}`, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, loadAvgBefore: load0, loadAvgAfter: os.loadavg() },
      config: { perDelay, delaysMs, warmup, contentChunks: ready.contentChunks, gapMs: ready.gapMs, clients: sequential ? 'sequential' : 'concurrent-processes' },
      definitions: {
        errorVsTruthMs: "client's firstTokenMs − server's offset from request arrival to the first content chunk's write",
        errorVsNominalMs: "client's firstTokenMs − nominal delay D",
        serverLatenessMs: "server's true offset − nominal delay D",
        percentiles: 'linear interpolation (NumPy default), src/core/latency.ts',
      },
      rows,
      runnerOverBare: overhead,
      clientWallMs: Object.fromEntries(clients.map((c) => [c.kind, c.wallMs])),
      wallS,
    };
    mkdirSync(dirname(outFile), { recursive: true });
    writeFileSync(outFile, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`wrote ${outFile}`);
    if (rows.some((r) => r.failed > 0)) process.exitCode = 1;
  } finally {
    server.kill();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
