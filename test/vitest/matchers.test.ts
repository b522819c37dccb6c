import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { GoldenFile, Sample } from '../../src/core/types.ts';
import { installConformMatchers } from '../../src/vitest/index.ts';

installConformMatchers();
const golden = JSON.parse(readFileSync(new URL('../../golden/smoke.json', import.meta.url), 'utf8')) as GoldenFile;
const hello = golden.samples['chat-hello']!;

describe('toConformWith', () => {
  it('passes a sample against itself and a near-tie-sized logprob wobble', () => {
    expect(hello).toConformWith(hello);
    const wobble: Sample = { ...hello, tokens: hello.tokens.map((t) => ({ ...t, logprob: (t.logprob ?? 0) - 0.01 })) };
    expect(wobble).toConformWith(hello, { checks: [{ kind: 'greedy-divergence' }, { kind: 'distribution' }] });
  });

  it('fails a confident flip and says where', () => {
    const flipped: Sample = { ...hello, tokens: hello.tokens.map((t, i) => (i === 3 ? { token: '§', id: 999_999, logprob: -0.01, top: [{ token: '§', id: 999_999, logprob: -0.01 }] } : t)) };
    expect(flipped).not.toConformWith(hello);
    expect(() => expect(flipped).toConformWith(hello)).toThrow(/greedy-divergence fail: confident flip at token 3/);
  });
});
