// Faults in state between requests: leaks and batch nondeterminism.
import type { TokenStep } from '../core/types.ts';
import { requestCase, type FaultDefinition } from './fault.ts';

export const outputLeak: FaultDefinition = {
  name: 'output-leak',
  kind: 'must-catch',
  backend: 'other',
  description: "one request's output leaks into the next: each answer starts with the previous case's text (tokens likewise)",
  expect: ['greedy-divergence', 'exact', 'matches-case', 'json-schema', 'stop-respected', 'stream-invariants', 'distribution', 'degeneration'],
  // Greedy cases only: a leak into a sampled (temperature > 0) answer on a backend other than golden's
  // is indistinguishable from sampling itself; on golden's own backend `exact` covers those (seed-ignored).
  applies: (c) => requestCase(c) && (c.params.temperature ?? 1) === 0,
  apply(sample, _testCase, { previous }) {
    if (sample.kind !== 'ok' || !previous || previous.kind !== 'ok' || previous.text === '') return sample;
    // A leak carries the previous tokens with its text; without them a consistent faulted sample cannot be built.
    if (sample.tokens.length > 0 && previous.tokens.length === 0) return sample;
    const tokens: TokenStep[] = sample.tokens.length && previous.tokens.length ? [...previous.tokens, ...sample.tokens] : sample.tokens;
    const variants = sample.variants?.map((v) => ({ ...v, text: previous.text + v.text, tokenIds: v.tokenIds && previous.tokens.every((t) => t.id !== undefined) ? [...previous.tokens.map((t) => t.id!), ...v.tokenIds] : v.tokenIds }));
    return { ...sample, text: previous.text + sample.text, tokens, ...(variants && { variants }) };
  },
};

export const concurrentNondeterminism: FaultDefinition = {
  name: 'concurrent-nondeterminism',
  kind: 'must-catch',
  backend: 'other',
  description: 'identical greedy requests sent concurrently give a second output (llama.cpp #7052)',
  expect: ['determinism'],
  applies: (c) => c.repeat?.mode === 'concurrent' && c.repeat.count > 1,
  apply(sample) {
    const first = sample.variants?.[0];
    if (sample.kind !== 'ok' || !first || first.count < 2) return sample;
    const cut = Math.max(1, Math.floor(first.text.length / 2));
    const second = { text: first.text.slice(0, cut) + ' otherwise', ...(first.tokenIds && { tokenIds: [...first.tokenIds.slice(0, 3), 1_000_300] }), count: 1 };
    return { ...sample, variants: [{ ...first, count: first.count - 1 }, second, ...sample.variants!.slice(1)] };
  },
};
