import { describe, expect, it } from 'vitest';
import { seed } from '../../src/assertions/seed.ts';
import type { Case, Sample } from '../../src/core/types.ts';
import { chatCase, input, sample } from './samples.ts';

const seeded: Case = chatCase({ id: 'chat-seeded-sampling', params: { temperature: 1, seed: 42, max_tokens: 24 }, repeat: { count: 2, mode: 'serial' }, checks: [{ kind: 'seed' }] });
const judge = (s: Sample, c: Case = seeded) => seed.compare(input({ sample: s, testCase: c, spec: { kind: 'seed' } }));
const A = { text: 'a random line', tokenIds: [1, 2, 3] };
const B = { text: 'another one', tokenIds: [4, 5] };

describe('seed', () => {
  it('passes a seed that repeats and other seeds that change the sample', () => {
    const v = judge(sample({ text: A.text, variants: [{ ...A, count: 2 }], otherSeeds: [{ seed: 43, ...B }, { seed: 44, ...A }] }));
    expect(v.status).toBe('pass');
    expect(v.message).toBe('seed 42 repeated over 2 requests; 1 of 2 other seeds (43, 44) changed the sample');
  });

  it('fails a dropped seed: other seeds give the same sample (item 13)', () => {
    const v = judge(sample({ text: A.text, variants: [{ ...A, count: 2 }], otherSeeds: [{ seed: 43, ...A }, { seed: 44, ...A }] }));
    expect(v.status).toBe('fail');
    expect(v.message).toContain('seeds 43, 44 gave the same sample as seed 42');
  });

  it('fails a seed that does not repeat', () => {
    const v = judge(sample({ text: A.text, variants: [{ ...A, count: 1 }, { ...B, count: 1 }], otherSeeds: [{ seed: 43, ...B }] }));
    expect(v.status).toBe('fail');
    expect(v.message).toContain('seed 42 sent 2 times gave 2 different samples');
  });

  it('tells samples apart by text when a side has no token ids', () => {
    const v = judge(sample({ text: A.text, variants: [{ text: A.text, count: 2 }], otherSeeds: [{ seed: 43, text: A.text, tokenIds: [9] }] }));
    expect(v.status).toBe('fail');
  });

  it('errors on a case that cannot be judged, saying what it needs', () => {
    expect(judge(sample(), { ...seeded, params: { temperature: 1 } }).message).toContain('sets no params.seed');
    expect(judge(sample(), { ...seeded, params: { temperature: 0, seed: 1 } }).message).toContain('temperature > 0');
    expect(judge(sample(), { ...seeded, repeat: undefined }).message).toContain('repeat: { count: 2, mode: serial }');
  });

  it('skips a sample recorded without repeats or other seeds, saying so', () => {
    expect(judge(sample())).toMatchObject({ status: 'skip' });
    expect(judge(sample({ variants: [{ ...A, count: 2 }] })).message).toContain('no samples with other seeds');
  });
});
