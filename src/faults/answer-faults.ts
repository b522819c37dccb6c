// Faults in what the answer claims about itself: its text against its tokens, its reasoning split, its
// length against max_tokens, the prompt it read, and the seed it was asked to use.
import type { Sample, TokenStep } from '../core/types.ts';
import { requestCase, textIsTokens, type FaultDefinition } from './fault.ts';

const ok = (s: Sample) => s.kind === 'ok';

export const textNotTokens: FaultDefinition = {
  name: 'text-not-tokens',
  kind: 'must-catch',
  backend: 'other',
  description: "the previous answer's words prepended to the content, the token list left intact (a server reusing a stale text buffer)",
  expect: ['text-matches-tokens'],
  applies: requestCase,
  apply(sample, _testCase, { previous }) {
    if (!ok(sample) || sample.tokens.length === 0) return sample;
    const stale = previous?.kind === 'ok' && previous.text.trim() !== '' ? previous.text : 'Seven. ';
    return { ...sample, text: stale + sample.text };
  },
};

export const reasoningMoved: FaultDefinition = {
  name: 'reasoning-moved',
  kind: 'must-catch',
  backend: 'other',
  description: 'the first three tokens sent as reasoning_content instead of content, tokens unchanged (a reasoning parser applied to a model that does not reason)',
  expect: ['reasoning-split'],
  applies: requestCase,
  apply(sample) {
    if (!ok(sample) || !textIsTokens(sample) || sample.tokens.length < 4 || sample.toolCalls.length > 0 || (sample.reasoning ?? '') !== '') return sample;
    const head = sample.tokens.slice(0, 3).map((t) => t.token).join('');
    if (head === '') return sample;
    return { ...sample, reasoning: head, text: sample.text.slice(head.length) };
  },
};

export const maxTokensIgnored: FaultDefinition = {
  name: 'max-tokens-ignored',
  kind: 'must-catch',
  backend: 'other',
  description: 'max_tokens ignored: the answer runs on for as many tokens again, usage counting them',
  expect: ['max-tokens'],
  applies: (c) => requestCase(c) && c.params.max_tokens !== undefined && c.repeat === undefined,
  apply(sample, testCase) {
    if (!ok(sample) || !sample.usage) return sample;
    const extra = testCase.params.max_tokens!;
    const more: TokenStep[] = sample.tokens.length
      ? Array.from({ length: extra }, (_, i) => ({ token: ' on', id: 1_000_400 + i, logprob: -0.2, top: [{ token: ' on', id: 1_000_400 + i, logprob: -0.2 }] }))
      : [];
    const tokens = [...sample.tokens, ...more];
    const text = textIsTokens(sample) ? tokens.map((t) => t.token).join('') : sample.text + ' on'.repeat(extra);
    return { ...sample, tokens, text, finishReason: 'length', usage: { ...sample.usage, completionTokens: sample.usage.completionTokens + extra } };
  },
};

export const promptTruncated: FaultDefinition = {
  name: 'prompt-truncated',
  kind: 'must-catch',
  backend: 'other',
  description: 'the prompt silently cut to half its tokens and answered 200 (llama.cpp b4748 past its context; a user message halved)',
  expect: ['prompt-tokens'],
  applies: requestCase,
  apply(sample) {
    if (!ok(sample) || !sample.usage || sample.usage.promptTokens < 2) return sample;
    return { ...sample, usage: { ...sample.usage, promptTokens: Math.floor(sample.usage.promptTokens / 2) } };
  },
};

export const seedDropped: FaultDefinition = {
  name: 'seed-dropped',
  kind: 'must-catch',
  backend: 'other',
  description: 'seed dropped (sglang #15746): every seed gives the same sample, on a backend other than golden’s, where exact does not apply',
  expect: ['seed'],
  applies: (c) => c.params.seed !== undefined && (c.params.temperature ?? 1) > 0 && c.checks.some((k) => k.kind === 'seed'),
  apply(sample) {
    const first = sample.variants?.[0];
    if (!ok(sample) || !first || !sample.otherSeeds?.length) return sample;
    const { count: _count, ...same } = first;
    return { ...sample, otherSeeds: sample.otherSeeds.map((o) => ({ ...same, seed: o.seed })) };
  },
};
