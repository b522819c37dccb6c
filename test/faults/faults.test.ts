import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FAULTS } from '../../src/faults/catalog.ts';
import { judgeSample } from '../../src/run/judge.ts';
import type { GoldenFile, Sample, Suite } from '../../src/core/types.ts';
import { loadSuites } from '../../src/suites/load-suites.ts';
import { asRecordedNow } from './recorded-now.ts';

const root = join(import.meta.dirname, '..', '..');
const suites: Suite[] = loadSuites(['suites/*.yaml'], root);
const golden = (suite: string) => JSON.parse(readFileSync(join(root, 'golden', `${suite}.json`), 'utf8')) as GoldenFile;
const vulkan = { name: 'vulkan', class: 'software-gpu' };
const cpu = { name: 'cpu', class: 'cpu' };

/** Judges the golden sample of a case, clean and faulted, as `conform run` would on `backend`; siblings are golden. */
function judgeBoth(fault: string, suite: string, caseId: string, backend = vulkan) {
  const g = golden(suite);
  const s = suites.find((x) => x.name === suite)!;
  const index = s.cases.findIndex((c) => c.id === caseId);
  const testCase = s.cases[index]!;
  const siblings = new Map<string, Sample>(s.cases.slice(0, index).map((c) => [c.id, g.samples[c.id]!]));
  const clean = asRecordedNow(g.samples[caseId]!, testCase);
  const previous = index > 0 ? g.samples[s.cases[index - 1]!.id] : undefined;
  const def = FAULTS.get(fault)!;
  expect(def.applies(testCase)).toBe(true);
  const faulted = def.apply(structuredClone(clean), testCase, { reference: clean, previous });
  const before = judgeSample({ testCase, sample: clean, golden: g, backend, siblings });
  const after = judgeSample({ testCase, sample: faulted, golden: g, backend, siblings });
  return { before, after, faulted, clean };
}

const failing = (verdicts: Array<{ check: string; status: string }>) => verdicts.filter((v) => v.status === 'fail' || v.status === 'error').map((v) => v.check);

describe('must-catch faults on golden samples', () => {
  const cases: Array<[fault: string, suite: string, caseId: string, check: string, backend?: typeof cpu]> = [
    ['confident-token-flip', 'smoke', 'chat-hello', 'greedy-divergence'],
    ['garbage-long-prompt', 'long-context', 'ctx-1k', 'degeneration'],
    ['logprob-noise-large', 'smoke', 'chat-system-prompt', 'greedy-divergence'],
    ['truncated-stream', 'smoke', 'chat-stream', 'sample'],
    ['error-in-200-stream', 'function-calling', 'parallel-streamed', 'sample'],
    ['tool-arguments-object', 'function-calling', 'named-weather', 'tool-call'],
    ['parallel-calls-share-index', 'function-calling', 'parallel', 'tool-call'],
    ['tool-calls-dropped-streaming', 'function-calling', 'named-time-streamed', 'matches-case'],
    ['named-tool-choice-ignored', 'smoke', 'tool-call-named', 'tool-call'],
    ['json-schema-ignored', 'smoke', 'json-schema-answer', 'json-schema'],
    ['stop-ignored', 'smoke', 'chat-stop-sequence', 'stop-respected'],
    ['seed-ignored', 'smoke', 'chat-seeded-sampling', 'exact', cpu],
    ['usage-wrong', 'smoke', 'completion-stream', 'stream-invariants'],
    ['output-leak', 'smoke', 'chat-system-prompt', 'greedy-divergence'],
    ['concurrent-nondeterminism', 'determinism', 'concurrent-8', 'determinism'],
    ['seed-dropped', 'smoke', 'chat-seeded-sampling', 'seed'],
    ['text-not-tokens', 'smoke', 'chat-multi-turn', 'text-matches-tokens'],
    ['text-not-tokens', 'function-calling', 'named-time', 'text-matches-tokens'],
    ['reasoning-moved', 'smoke', 'chat-hello', 'reasoning-split'],
    ['max-tokens-ignored', 'smoke', 'chat-unicode', 'max-tokens'],
    ['max-tokens-ignored', 'smoke', 'tool-call-named', 'max-tokens'],
    ['prompt-truncated', 'long-context', 'ctx-4k', 'prompt-tokens'],
  ];
  it.each(cases)('%s on %s/%s is caught by %s', (fault, suite, caseId, check, backend) => {
    const { before, after } = judgeBoth(fault, suite, caseId, backend);
    expect(failing(before)).toEqual([]);
    expect(failing(after)).toContain(check);
  });

  it('parallel calls sharing index 0 are merged into one call and flagged by tool-call for the deviation', () => {
    const { faulted, after } = judgeBoth('parallel-calls-share-index', 'function-calling', 'parallel');
    expect(faulted.toolCalls).toHaveLength(1);
    expect(faulted.deviations).toContain('parallel-tool-calls-share-index');
    expect(after.find((v) => v.check === 'tool-call')?.message).toMatch(/index 0/);
  });

  it('TTFT inflation doubles the first-token time of streamed samples', () => {
    const { faulted, clean } = judgeBoth('ttft-inflated-2x', 'smoke', 'chat-stream');
    expect(faulted.timings.firstTokenMs).toBeCloseTo(clean.timings.firstTokenMs! * 2);
    expect(faulted.timings.chunkMs[0]).toBeCloseTo(faulted.timings.firstTokenMs!);
  });
});

describe('must-pass faults on golden samples', () => {
  it('a near-tie flip at a position where golden top-2 are within 0.05 nats passes greedy-divergence', () => {
    const { before, after, faulted, clean } = judgeBoth('near-tie-flip', 'smoke', 'chat-hello');
    expect(faulted.tokens[5]!.token).not.toBe(clean.tokens[5]!.token);
    expect(faulted.text).toBe(faulted.tokens.map((t) => t.token).join(''));
    expect(failing(before)).toEqual([]);
    expect(after.find((v) => v.check === 'greedy-divergence')).toMatchObject({ status: 'pass', measured: 5 });
  });

  it('the near-tie flip leaves a sample without such a position unchanged', () => {
    const { faulted, clean } = judgeBoth('near-tie-flip', 'smoke', 'chat-system-prompt');
    expect(faulted).toEqual(clean);
  });

  it('±0.01 nats of logprob noise passes', () => {
    const { after, faulted, clean } = judgeBoth('logprob-noise-small', 'smoke', 'chat-longer-prompt');
    expect(faulted.tokens[0]!.logprob).not.toBe(clean.tokens[0]!.logprob);
    expect(failing(after)).toEqual([]);
  });
});
