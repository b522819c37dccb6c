// Benchmark, not a test: each plan variant of the built-in cpu backend against its base plan, timed in
// the same run.
//
//   npm run bench:variants     (or: npx tsx bench/variants.ts)
//
// Every plan (cpu, each of its variants in the default config, and the fixture's Q4_0 weights) runs as
// its own conform serve process, all of them up at once and idle but for the one being asked. The
// plans take turns request by request, in an order that rotates every round, so a busy moment of the
// shared machine lands on all of them alike. Per plan and prompt the figures are the median over
// rounds; the ratio to the base plan is taken per prompt and round (a paired ratio), with the gate's
// one-sided Wilcoxon signed-rank p-value for "faster than the base".
// Prompts: a short chat (decode-dominated) and a ~1K-token one (prefill-dominated, where the batch
// size matters), streamed, 32 tokens each, greedy.
//
// Environment: BENCH_N (rounds, default 6), BENCH_OUT (default reports/bench-variants.json),
// BENCH_PLANS (comma-separated plan names to keep, default all).

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CONFIG } from '../src/config/default-config.ts';
import { sampleLatency } from '../src/core/latency.ts';
import { quantile, wilcoxonSignedRank } from '../src/core/statistics.ts';
import type { BackendConfig, Case } from '../src/core/types.ts';
import { expandVariants, variantBackend } from '../src/core/variants.ts';
import { ensureFixtureModel } from '../src/engine/fixture-model/ensure-fixture-model.ts';
import { launchBackend, type LaunchedBackend } from '../src/launch/launch-backend.ts';
import { createOpenAiHttpRunner } from '../src/runners/openai-http-runner.ts';
import type { Runner } from '../src/runners/runner.ts';
import { fillerText } from '../src/suites/prompt-template.ts';
import { envInt } from './bench-env.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const ROUNDS = envInt('BENCH_N', 6);
const base = DEFAULT_CONFIG.backends.find((b) => b.name === 'cpu')! as BackendConfig & { launch: NonNullable<BackendConfig['launch']> };
let plans = [...expandVariants([base]), variantBackend(base, { name: 'q4_0', set: { '--weights': 'q4_0' } })];
if (process.env.BENCH_PLANS) plans = plans.filter((p) => p.name === 'cpu' || process.env.BENCH_PLANS!.split(',').includes(p.name));

const chat = (id: string, content: string): Case => ({ id, endpoint: 'chat', messages: [{ role: 'user', content }], params: { stream: true, max_tokens: 32, temperature: 0 }, checks: [] });
const PROMPTS: Case[] = [chat('short', 'Tell me a story about a small robot.'), chat('1k-words', `${fillerText(800, 7)} What was the first word?`)];

interface Measurement {
  plan: string;
  prompt: string;
  round: number;
  ttftMs?: number;
  tokensPerSecond?: number;
  error?: string;
}

async function main(): Promise<void> {
  const model = await ensureFixtureModel(join(root, '.cache', 'conform'));
  const logDir = mkdtempSync(join(os.tmpdir(), 'bench-variants-'));
  const launched = new Map<string, { backend: LaunchedBackend; runner: Runner }>();
  const measurements: Measurement[] = [];
  try {
    for (const plan of plans) {
      process.stderr.write(`starting ${plan.name}\n`);
      const outcome = await launchBackend(plan, { modelPath: model.path, logFile: join(logDir, `${plan.name}.log`), env: process.env });
      if (outcome.state !== 'ready') {
        process.stderr.write(`  ${plan.name} ${outcome.state}: ${outcome.reason}\n`);
        continue;
      }
      launched.set(plan.name, { backend: outcome.backend, runner: createOpenAiHttpRunner({ backend: plan.name, baseUrl: outcome.backend.baseUrl, model: plan.model, maxRetries: 0, requestTimeoutMs: 600_000 }) });
    }
    const names = [...launched.keys()];
    // One request per plan and prompt first, unmeasured: the first request of a process pays for its allocations.
    for (const name of names) for (const prompt of PROMPTS) await launched.get(name)!.runner.run(prompt);
    for (let round = 0; round < ROUNDS; round++) {
      for (const prompt of PROMPTS) {
        const order = names.map((_, i) => names[(i + round) % names.length]!);
        for (const name of order) {
          const sample = await launched.get(name)!.runner.run(prompt);
          if (sample.kind !== 'ok') {
            measurements.push({ plan: name, prompt: prompt.id, round, error: sample.error?.message ?? sample.kind });
            continue;
          }
          const latency = sampleLatency(sample);
          measurements.push({ plan: name, prompt: prompt.id, round, ttftMs: latency.ttftMs, tokensPerSecond: latency.tpotMs ? 1000 / latency.tpotMs : undefined });
        }
      }
      process.stderr.write(`round ${round + 1}/${ROUNDS}\n`);
    }
  } finally {
    await Promise.all([...launched.values()].map((l) => l.backend.stop()));
  }
  report(measurements);
}

function report(measurements: Measurement[]): void {
  const of = (plan: string, prompt: string) => measurements.filter((m) => m.plan === plan && m.prompt === prompt && m.error === undefined);
  const rows: Array<Record<string, unknown>> = [];
  const fmt = (x: number | undefined, d = 2) => (x === undefined || Number.isNaN(x) ? '—' : x.toFixed(d));
  console.log(`${ROUNDS} rounds on ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)} at the end; ratios are paired per prompt and round against cpu (base plan)`);
  console.log(['plan', 'prompt', 'TTFT ms', 'TTFT ×base', 'p(faster)', 'tok/s', 'tok/s ×base', 'p(faster)', 'errors'].join('\t'));
  for (const plan of [...new Set(measurements.map((m) => m.plan))]) {
    for (const prompt of PROMPTS.map((p) => p.id)) {
      const mine = of(plan, prompt);
      const base = new Map(of('cpu', prompt).map((m) => [m.round, m]));
      const pairs = (key: 'ttftMs' | 'tokensPerSecond') => mine.flatMap((m) => (m[key] && base.get(m.round)?.[key] ? [[m[key]!, base.get(m.round)![key]!] as const] : []));
      const ttft = pairs('ttftMs');
      const rate = pairs('tokensPerSecond');
      const median = (xs: number[]) => (xs.length ? quantile(xs, 0.5) : undefined);
      const row = {
        plan,
        prompt,
        ttftMs: median(mine.flatMap((m) => (m.ttftMs ? [m.ttftMs] : []))),
        ttftRatio: median(ttft.map(([a, b]) => a / b)),
        ttftFasterP: plan === 'cpu' || ttft.length === 0 ? undefined : wilcoxonSignedRank(ttft.map((p) => p[1]), ttft.map((p) => p[0])).p,
        tokensPerSecond: median(mine.flatMap((m) => (m.tokensPerSecond ? [m.tokensPerSecond] : []))),
        tokensPerSecondRatio: median(rate.map(([a, b]) => a / b)),
        tokensPerSecondFasterP: plan === 'cpu' || rate.length === 0 ? undefined : wilcoxonSignedRank(rate.map((p) => p[0]), rate.map((p) => p[1])).p,
        errors: measurements.filter((m) => m.plan === plan && m.prompt === prompt && m.error !== undefined).length,
      };
      rows.push(row);
      console.log([plan, prompt, fmt(row.ttftMs, 1), fmt(row.ttftRatio), fmt(row.ttftFasterP, 3), fmt(row.tokensPerSecond, 0), fmt(row.tokensPerSecondRatio), fmt(row.tokensPerSecondFasterP, 3), row.errors].join('\t'));
    }
  }
  const out = resolve(root, process.env.BENCH_OUT ?? 'reports/bench-variants.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ rounds: ROUNDS, cores: os.cpus().length, load: os.loadavg(), rows, measurements }, null, 2)}\n`);
  console.log(`written: ${out}`);
}

await main();
