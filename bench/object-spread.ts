// Benchmark, not a test: what building an object per case costs in the three shapes conform's hot paths
// use, written as a spread, with extend (src/core/extend.ts), and as a plain literal, the baseline measured
// in the same process. On Node 20 a spread followed by more properties leaves V8's fast path.
//
//   npx tsx bench/object-spread.ts
//
// Environment: BENCH_OPS (objects built per timed round, default 50000), BENCH_N (timed rounds, default 5).

import { extend } from '../src/core/extend.ts';
import { envInt } from './bench-env.ts';

const ops = envInt('BENCH_OPS', 50_000);
const rounds = envInt('BENCH_N', 5);
const WARM_UP = 3;

// Fresh inputs each call, as a runner gets a fresh sample per request.
const sample = (i: number) => ({ kind: 'ok', text: `t${i}`, tokens: [], toolCalls: [], finishReason: null, timings: { endMs: i }, streamed: false, deviations: [] });
const answer = (i: number) => ({ kind: 'ok', text: `a${i}`, tokens: [], toolCalls: [], finishReason: 'length', deviations: [], usage: { completionTokens: i } });
const head = (i: number) => ({ journalLine: `line ${i}`, anchor: `case-${i}`, backend: 'b', suite: 's', caseId: `c${i}`, status: 'pass', headline: '', ttft: '—', e2e: '1 ms' });
const body = { compact: true, open: false, finishReason: '', tokenCount: '', verdicts: [], diff: null, tools: null, hasText: false, text: '', hasReasoning: false, reasoning: '', error: '', deviations: '' };

type Shape = { name: string; spread: (i: number) => object; extended: (i: number) => object; literal: (i: number) => object };

const shapes: Shape[] = [
  {
    name: 'one property added (a sample and its retries)',
    spread: (i) => ({ ...sample(i), retries: 0 }),
    extended: (i) => extend(sample(i), { retries: 0 }),
    literal: (i) => {
      const s = sample(i);
      return { kind: s.kind, text: s.text, tokens: s.tokens, toolCalls: s.toolCalls, finishReason: s.finishReason, timings: s.timings, streamed: s.streamed, deviations: s.deviations, retries: 0 };
    },
  },
  {
    name: 'two objects merged (an empty sample and an answer)',
    spread: (i) => ({ ...sample(i), ...answer(i) }),
    extended: (i) => extend(sample(i), answer(i)),
    literal: (i) => {
      const s = sample(i);
      const a = answer(i);
      return { kind: a.kind, text: a.text, tokens: a.tokens, toolCalls: a.toolCalls, finishReason: a.finishReason, timings: s.timings, streamed: s.streamed, deviations: a.deviations, usage: a.usage };
    },
  },
  {
    name: 'thirteen properties added (a report row)',
    spread: (i) => ({ ...head(i), ...body }),
    extended: (i) => extend(head(i), body),
    literal: (i) => {
      const h = head(i);
      return {
        journalLine: h.journalLine, anchor: h.anchor, backend: h.backend, suite: h.suite, caseId: h.caseId, status: h.status, headline: h.headline, ttft: h.ttft, e2e: h.e2e,
        compact: true, open: false, finishReason: '', tokenCount: '', verdicts: [], diff: null, tools: null, hasText: false, text: '', hasReasoning: false, reasoning: '', error: '', deviations: '',
      };
    },
  },
];

/** Nanoseconds of CPU per object built, the median of the rounds after three warm-up rounds (the JIT's tiers). */
function nsPerOp(build: (i: number) => object): number {
  const times: number[] = [];
  let kept = 0;
  for (let round = -WARM_UP; round < rounds; round++) {
    const started = process.cpuUsage();
    for (let i = 0; i < ops; i++) if (build(i)) kept++;
    const used = process.cpuUsage(started);
    if (round >= 0) times.push(((used.user + used.system) * 1000) / ops);
  }
  if (kept !== ops * (rounds + WARM_UP)) throw new Error('an object was not built');
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

console.log(`object building on Node ${process.versions.node} (V8 ${process.versions.v8}), ${ops.toLocaleString('en-US')} objects a round, median of ${rounds}:`);
for (const shape of shapes) {
  const literal = nsPerOp(shape.literal);
  const spread = nsPerOp(shape.spread);
  const extended = nsPerOp(shape.extended);
  const ratio = (ns: number) => `${ns.toFixed(0)} ns (${(ns / literal).toFixed(1)}x the literal)`;
  console.log(`  ${shape.name}:`);
  console.log(`    literal ${literal.toFixed(0)} ns, spread ${ratio(spread)}, extend ${ratio(extended)}`);
}
