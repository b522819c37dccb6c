// Benchmark, not a test: does scraping /metrics beside a backend disturb the latency conform measures?
//
//   npx tsx bench/telemetry-overhead.ts
//
// Starts the built-in engine (conform serve --gpu cpu, the fixture model) once, then sends the same short
// streamed request in alternating blocks: A with a telemetry window scraping its /metrics (every
// BENCH_INTERVAL ms, default 250, as `conform run` does) and B with a window that does not scrape. Both
// observe the runner the same way, so scraping is the only difference. Blocks alternate (A B A B ...) so
// that the machine's drift hits both alike; the figures of one run are only compared with each other.
// It reports TTFT and end-to-end p50/p90 per condition, the ratios A/B, a two-sided Mann–Whitney test,
// and what one scrape costs the client.
//
// Environment: BENCH_BLOCKS (default 10 per condition), BENCH_PER_BLOCK (default 20 requests),
// BENCH_INTERVAL (ms, default 250), BENCH_OUT (default reports/bench-telemetry-overhead.json).

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CONFIG } from '../src/config/default-config.ts';
import { latencyStats } from '../src/core/latency.ts';
import { mannWhitneyU } from '../src/core/statistics.ts';
import type { BackendConfig, Case } from '../src/core/types.ts';
import { ensureFixtureModel } from '../src/engine/fixture-model/ensure-fixture-model.ts';
import { launchBackend } from '../src/launch/launch-backend.ts';
import { createOpenAiHttpRunner } from '../src/runners/openai-http-runner.ts';
import { startBackendTelemetry } from '../src/telemetry/backend-telemetry.ts';
import { createNodePowerIo } from '../src/telemetry/energy/node-power-io.ts';
import { scrapeOnce } from '../src/telemetry/metrics/metrics-scraper.ts';
import { envInt } from './bench-env.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const blocks = envInt('BENCH_BLOCKS', 10);
const perBlock = envInt('BENCH_PER_BLOCK', 20);
const intervalMs = envInt('BENCH_INTERVAL', 250);
const outFile = resolve(root, process.env.BENCH_OUT ?? 'reports/bench-telemetry-overhead.json');

const CASE: Case = { id: 'bench', endpoint: 'chat', messages: [{ role: 'user', content: 'Write one sentence about the sea.' }], params: { max_tokens: 16, temperature: 0, stream: true }, checks: [] };

interface Timing {
  ttftMs: number;
  e2eMs: number;
}

const ratio = (a: number | null, b: number | null) => (a !== null && b !== null && b > 0 ? a / b : null);
const f = (v: number | null) => (v === null ? '—' : v.toFixed(2));

async function main(): Promise<void> {
  const started = performance.now();
  const load0 = os.loadavg();
  const { path } = await ensureFixtureModel(join(root, '.cache', 'conform'));
  const logDir = mkdtempSync(join(os.tmpdir(), 'bench-telemetry-'));
  const launched = await launchBackend(DEFAULT_CONFIG.backends[0]!, { modelPath: path, logFile: join(logDir, 'cpu.log'), env: process.env });
  if (launched.state !== 'ready') throw new Error(`conform serve cpu did not start: ${launched.reason}`);
  const { baseUrl } = launched.backend;
  try {
    const runner = createOpenAiHttpRunner({ backend: 'cpu', baseUrl, model: 'conform-tiny' });
    for (let i = 0; i < 10; i++) await runner.run(CASE);
    const powerIo = createNodePowerIo({ env: {}, powercapRoot: '/nonexistent' });
    const timings: Record<'scraping' | 'not scraping', Timing[]> = { scraping: [], 'not scraping': [] };
    let scrapes = 0;
    for (let b = 0; b < blocks * 2; b++) {
      const condition = b % 2 === 0 ? 'scraping' : 'not scraping';
      const backend: BackendConfig = { name: 'cpu', class: 'cpu', model: 'conform-tiny', baseUrl, power: { source: 'none' }, metrics: condition === 'scraping' ? { intervalMs } : false };
      const session = await startBackendTelemetry({ backend, baseUrl, env: {}, powerIo });
      const observed = session.observe(runner);
      for (let i = 0; i < perBlock; i++) {
        const sample = await observed.run(CASE);
        if (sample.kind !== 'ok' || sample.timings.firstTokenMs === undefined) throw new Error(`request failed: ${sample.kind} ${sample.error?.message ?? ''}`);
        timings[condition].push({ ttftMs: sample.timings.firstTokenMs, e2eMs: sample.timings.endMs });
      }
      scrapes += (await session.finish())?.metrics?.scrapes ?? 0;
    }
    // What one scrape costs the client, sequentially, on the same server.
    const metricsUrl = new URL(baseUrl).origin + '/metrics';
    const scrapeMs: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t0 = performance.now();
      await scrapeOnce(metricsUrl);
      scrapeMs.push(performance.now() - t0);
    }

    const stats = Object.fromEntries(
      Object.entries(timings).map(([k, v]) => [k, { n: v.length, ttftMs: latencyStats(v.map((t) => t.ttftMs)), e2eMs: latencyStats(v.map((t) => t.e2eMs)) }]),
    ) as Record<keyof typeof timings, { n: number; ttftMs: ReturnType<typeof latencyStats>; e2eMs: ReturnType<typeof latencyStats> }>;
    const a = stats.scraping;
    const b = stats['not scraping'];
    const test = (pick: (t: Timing) => number) => {
      const up = mannWhitneyU(timings.scraping.map(pick), timings['not scraping'].map(pick));
      const down = mannWhitneyU(timings['not scraping'].map(pick), timings.scraping.map(pick));
      return { twoSidedP: Math.min(1, 2 * Math.min(up.p, down.p)) };
    };
    const result = {
      bench: 'telemetry-overhead',
      startedAt: new Date(Date.now() - (performance.now() - started)).toISOString(),
      wallSeconds: (performance.now() - started) / 1000,
      machine: { cpus: os.cpus().length, loadAverageBefore: load0, loadAverageAfter: os.loadavg() },
      setup: { blocks, perBlock, intervalMs, request: 'streamed chat, max_tokens 16, temperature 0', scrapesDuringScrapingBlocks: scrapes },
      stats,
      ratios: {
        ttftP50: ratio(a.ttftMs.p50, b.ttftMs.p50),
        ttftP90: ratio(a.ttftMs.p90, b.ttftMs.p90),
        e2eP50: ratio(a.e2eMs.p50, b.e2eMs.p50),
        e2eP90: ratio(a.e2eMs.p90, b.e2eMs.p90),
      },
      mannWhitney: { ttft: test((t) => t.ttftMs), e2e: test((t) => t.e2eMs) },
      oneScrapeMs: latencyStats(scrapeMs),
    };
    mkdirSync(dirname(outFile), { recursive: true });
    writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`telemetry overhead: ${blocks} blocks of ${perBlock} requests per condition, alternating; /metrics every ${intervalMs} ms (${scrapes} scrapes)`);
    console.log(`                    TTFT p50  TTFT p90   E2E p50   E2E p90 (ms)`);
    for (const [name, s] of Object.entries(stats)) console.log(`${name.padEnd(16)} ${f(s.ttftMs.p50).padStart(9)} ${f(s.ttftMs.p90).padStart(9)} ${f(s.e2eMs.p50).padStart(9)} ${f(s.e2eMs.p90).padStart(9)}`);
    console.log(`ratio scraping/not ${f(result.ratios.ttftP50).padStart(7)}x ${f(result.ratios.ttftP90).padStart(8)}x ${f(result.ratios.e2eP50).padStart(8)}x ${f(result.ratios.e2eP90).padStart(8)}x`);
    console.log(`Mann–Whitney two-sided p: TTFT ${result.mannWhitney.ttft.twoSidedP.toPrecision(3)}, E2E ${result.mannWhitney.e2e.twoSidedP.toPrecision(3)}; one scrape: p50 ${f(result.oneScrapeMs.p50)} ms, p90 ${f(result.oneScrapeMs.p90)} ms`);
    console.log(`load average ${load0.map((l) => l.toFixed(1)).join(' ')} → ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; written to ${outFile}`);
  } finally {
    await launched.backend.stop();
  }
}

main().catch((error: unknown) => {
  console.error(`bench/telemetry-overhead: ${(error as Error).message}`);
  process.exitCode = 1;
});
