// Benchmark, not a test: how close conform comes to the request-rate ceiling of this machine (issue 11: ≥ 0.8×
// autocannon's requests/s on the same request at the same concurrency, streamed and not).
//
//   npm run bench:ceiling     (or: npx tsx bench/ceiling.ts)
//
// Three clients send the same chat request (max_tokens 16, the body conform sends for a case of the generated
// suite) to the zero-delay server (bench/zero-delay-server.ts, its own process), four in flight, streamed and
// not, one after the other in each round:
//   autocannon    the ceiling: its programmatic API, in this process, one body for every request;
//   undici loop   a bare Node client (bench/undici-loop.ts, its own process): undici's `request` on one
//                 keep-alive pool, each body read to its end and not parsed, a different case each request;
//   conform       `conform run` on a generated suite of as many cases (bench/conform-run.ts).
// Every rate is the server's: requests answered ÷ (last answer's end − first request's arrival), the sending
// phase alone, so conform's start-up and report writing are not in it and all three are timed by one clock.
//
// The undici loop and conform each start cold in their own process, so a short round measures their JIT
// warm-up more than their steady cost: at 3,000 requests the bare loop spent 0.27 ms of CPU per request, at
// 10,000 0.12 ms, and warmed 0.08 ms (measured 2026-12-02). 10,000 is also the scale bench's largest run,
// whose CPU per case is set beside this loop's CPU per request.
//
// Environment: BENCH_REQUESTS (per client and mode, default 10000), BENCH_N (rounds, default 2; medians are
// reported), BENCH_CONCURRENCY (default 4), BENCH_OUT (default reports/bench-ceiling.json).

import autocannon from 'autocannon';
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { envInt } from './bench-env.ts';
import { caseRequest, root, runConform } from './conform-run.ts';
import type { LoopDone, LoopPlan } from './undici-loop.ts';
import { serverRate, startZeroDelayServer, type ZeroDelayServer } from './zero-delay.ts';

const GOAL = 0.8;
const here = dirname(fileURLToPath(import.meta.url));
const requests = envInt('BENCH_REQUESTS', 10_000);
const rounds = envInt('BENCH_N', 2);
const concurrency = envInt('BENCH_CONCURRENCY', 4);
const outFile = resolve(root, process.env.BENCH_OUT ?? 'reports/bench-ceiling.json');

type Client = 'autocannon' | 'undici' | 'conform';

export interface CeilingMode {
  stream: boolean;
  /** Server-side requests/s per round, by client. */
  rates: Record<Client, number[]>;
  medians: Record<Client, number>;
  conformOverAutocannon: number;
  conformOverUndici: number;
  undiciOverAutocannon: number;
  /** CPU ms per request of the bare loop (its own process.cpuUsage) and per case of conform (whole process). */
  undiciCpuMsPerRequest: number;
  conformCpuMsPerCase: number;
  meetsGoal: boolean;
}

export interface CeilingReport {
  bench: 'ceiling';
  recordedAt: string;
  requests: number;
  rounds: number;
  concurrency: number;
  loadAvgBefore: number[];
  loadAvgAfter: number[];
  goal: number;
  modes: CeilingMode[];
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** Runs `work` between two reads of the server's count, and returns its rate over the sending phase. */
async function counted(server: ZeroDelayServer, expected: number, what: string, work: () => Promise<void>): Promise<number> {
  await server.stats(true);
  await work();
  const stats = await server.stats(true);
  const rate = serverRate(stats);
  if (stats.requests !== expected || rate === null) throw new Error(`${what}: the server answered ${stats.requests} chat requests, expected ${expected}`);
  return rate;
}

async function viaAutocannon(server: ZeroDelayServer, stream: boolean, amount: number): Promise<void> {
  const result = await autocannon({
    url: `${server.baseUrl}/chat/completions`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(caseRequest(1, stream)),
    connections: concurrency,
    amount,
  });
  if (result.errors || result.non2xx) throw new Error(`autocannon: ${result.errors} errors, ${result.non2xx} non-2xx answers`);
}

function viaUndici(server: ZeroDelayServer, stream: boolean): Promise<LoopDone> {
  const child = fork(join(here, 'undici-loop.ts'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolveDone, reject) => {
    child.once('exit', (code) => reject(new Error(`undici loop exited (${code}) before answering`)));
    child.once('message', (done: LoopDone) => (done.failed ? reject(new Error(`undici loop: ${done.failed} requests failed`)) : resolveDone(done)));
    child.send({ url: `${server.baseUrl}/chat/completions`, concurrency, requests, stream } satisfies LoopPlan);
  });
}

async function measureMode(server: ZeroDelayServer, stream: boolean): Promise<CeilingMode> {
  const rates: Record<Client, number[]> = { autocannon: [], undici: [], conform: [] };
  const undiciCpu: number[] = [];
  const conformCpu: number[] = [];
  await viaAutocannon(server, stream, 200); // warm-up: JIT on both sides, connections
  for (let round = 0; round < rounds; round++) {
    rates.autocannon.push(await counted(server, requests, 'autocannon', () => viaAutocannon(server, stream, requests)));
    rates.undici.push(
      await counted(server, requests, 'undici loop', async () => {
        const done = await viaUndici(server, stream);
        undiciCpu.push(done.cpuMs / done.requests);
      }),
    );
    rates.conform.push(
      await counted(server, requests, 'conform', async () => {
        const result = await runConform({ bin: join(root, 'bin', 'conform.js'), cases: requests, stream, baseUrl: server.baseUrl, concurrency });
        if (result.exitCode !== 0) throw new Error(`conform exited ${result.exitCode}: ${result.stderrTail.trim().split('\n').slice(-3).join(' | ')}`);
        conformCpu.push(result.cpuMsPerCase);
      }),
    );
  }
  const medians = { autocannon: median(rates.autocannon), undici: median(rates.undici), conform: median(rates.conform) };
  return {
    stream,
    rates,
    medians,
    conformOverAutocannon: medians.conform / medians.autocannon,
    conformOverUndici: medians.conform / medians.undici,
    undiciOverAutocannon: medians.undici / medians.autocannon,
    undiciCpuMsPerRequest: median(undiciCpu),
    conformCpuMsPerCase: median(conformCpu),
    meetsGoal: medians.conform / medians.autocannon >= GOAL,
  };
}

async function main(): Promise<void> {
  const loadAvgBefore = os.loadavg();
  const server = await startZeroDelayServer();
  const modes: CeilingMode[] = [];
  try {
    for (const stream of [true, false]) modes.push(await measureMode(server, stream));
  } finally {
    server.stop();
  }
  const f = (v: number, d = 0) => v.toFixed(d);
  process.stdout.write(`request-rate ceiling, ${requests} requests per client, concurrency ${concurrency}, ${rounds} rounds (medians), load ${loadAvgBefore.map((l) => l.toFixed(2)).join(' ')}\n\n`);
  process.stdout.write(`${'mode'.padEnd(13)}${'autocannon'.padStart(11)}${'undici'.padStart(8)}${'conform'.padStart(9)}${'÷ autocannon'.padStart(14)}${'÷ undici'.padStart(10)}${'undici CPU ms/req'.padStart(19)}${'conform CPU ms/case'.padStart(21)}\n`);
  for (const m of modes)
    process.stdout.write(
      `${(m.stream ? 'streamed' : 'non-streamed').padEnd(13)}${f(m.medians.autocannon).padStart(11)}${f(m.medians.undici).padStart(8)}${f(m.medians.conform).padStart(9)}${f(m.conformOverAutocannon, 2).padStart(14)}${f(m.conformOverUndici, 2).padStart(10)}${f(m.undiciCpuMsPerRequest, 3).padStart(19)}${f(m.conformCpuMsPerCase, 3).padStart(21)}  ${m.meetsGoal ? 'meets' : 'misses'} ≥ ${GOAL}×\n`,
    );
  process.stdout.write(`(requests/s while sending, counted by the server; load at the end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')})\n`);
  const report: CeilingReport = { bench: 'ceiling', recordedAt: new Date().toISOString(), requests, rounds, concurrency, loadAvgBefore, loadAvgAfter: os.loadavg(), goal: GOAL, modes };
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${outFile}\n`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
