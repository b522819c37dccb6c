// Faults in what was generated: tokens, logprobs and text.
import { firstDivergence } from '../assertions/tokens.ts';
import type { Case, Sample, TokenStep } from '../core/types.ts';
import { clone, hasCheck, requestCase, shiftStep, textIsTokens, withTokens, type FaultDefinition } from './fault.ts';

const withLogprobs = (sample: Sample) => sample.tokens.some((t) => t.logprob !== undefined && t.top.length > 0);
const judgedByDivergence = (testCase: Case) => hasCheck(testCase, 'greedy-divergence');

/** Where the sample still agrees with golden: flips must land at or before the first natural divergence. */
function agreeingEnd(sample: Sample, reference: Sample | undefined): number {
  if (!reference) return sample.tokens.length;
  const d = firstDivergence(reference.tokens, sample.tokens);
  return d === -1 ? Math.min(reference.tokens.length, sample.tokens.length) : d;
}

export const FLIP_POSITION = 2;

export const confidentTokenFlip: FaultDefinition = {
  name: 'confident-token-flip',
  kind: 'must-catch',
  backend: 'other',
  description: `token ${FLIP_POSITION} replaced by one absent from golden's top-k, with logprob near 0 (a kernel bug that changes greedy output)`,
  expect: ['greedy-divergence'],
  applies: (c) => judgedByDivergence(c) && c.endpoint !== 'lifecycle',
  apply(sample, _testCase, { reference }) {
    if (!withLogprobs(sample) || !reference?.tokens.length) return sample;
    const k = Math.max(0, Math.min(FLIP_POSITION, agreeingEnd(sample, reference), sample.tokens.length - 1));
    const intruder: TokenStep = { token: '\u00a7flip\u00a7', id: 1_000_003, logprob: -0.001, top: [] };
    intruder.top = [{ token: intruder.token, id: intruder.id, logprob: -0.001 }, ...sample.tokens[k]!.top.slice(0, 4).map((t) => ({ ...t, logprob: t.logprob - 7 }))];
    const tokens = clone(sample.tokens);
    tokens[k] = intruder;
    return withTokens(sample, tokens);
  },
};

export function logprobNoise(name: string, kind: 'must-catch' | 'must-pass', size: number): FaultDefinition {
  return {
    name,
    kind,
    backend: 'other',
    description: `every token's logprob moved by ±${size} nats (alternating), its entry among the alternatives with it`,
    expect: kind === 'must-catch' ? ['greedy-divergence'] : [],
    applies: (c) => judgedByDivergence(c) && c.endpoint !== 'lifecycle',
    apply(sample) {
      if (!withLogprobs(sample)) return sample;
      return { ...sample, tokens: sample.tokens.map((t, i) => shiftStep(t, i % 2 === 0 ? -size : size)) };
    },
  };
}

export const garbageAfterLongPrompt: FaultDefinition = {
  name: 'garbage-long-prompt',
  kind: 'must-catch',
  backend: 'other',
  description: 'output becomes "????"/U+FFFD, only on prompts of ≥ 1000 tokens (llama.cpp Vulkan #5241)',
  expect: ['degeneration', 'greedy-divergence'],
  applies: (c) =>
    requestCase(c) &&
    ((c.requires?.contextTokens ?? 0) >= 1000 || (c.messages ?? []).reduce((n, m) => n + (m.content?.length ?? 0), 0) + (c.prompt?.length ?? 0) >= 4000),
  apply(sample) {
    const n = Math.max(sample.tokens.length, 8);
    const tokens: TokenStep[] = Array.from({ length: n }, (_, i) => {
      const token = i % 3 === 2 ? '\uFFFD' : '??';
      const id = i % 3 === 2 ? 1_000_011 : 1_000_010;
      return { token, id, logprob: -0.01, top: [{ token, id, logprob: -0.01 }] };
    });
    return { ...sample, tokens: sample.tokens.length ? tokens : [], text: tokens.map((t) => t.token).join('') };
  },
};

export const jsonSchemaIgnored: FaultDefinition = {
  name: 'json-schema-ignored',
  kind: 'must-catch',
  backend: 'other',
  description: 'response_format json_schema ignored: free text instead of JSON',
  expect: ['json-schema'],
  applies: (c) => c.params.response_format?.type === 'json_schema',
  apply(sample) {
    const words = ['Lima', ' is', ' a', ' coastal', ' city', ',', ' ranked', ' first', '.'];
    const tokens: TokenStep[] = words.map((token, i) => ({ token, id: 1_000_100 + i, logprob: -0.2, top: [{ token, id: 1_000_100 + i, logprob: -0.2 }] }));
    return { ...sample, text: words.join(''), tokens: sample.tokens.length ? tokens : [], finishReason: 'stop' };
  },
};

export const stopIgnored: FaultDefinition = {
  name: 'stop-ignored',
  kind: 'must-catch',
  backend: 'other',
  description: 'stop sequences ignored: the stop string and more text appended, finish_reason length',
  expect: ['stop-respected'],
  applies: (c) => (c.params.stop?.length ?? 0) > 0,
  apply(sample, testCase) {
    const extra = [testCase.params.stop![0]!, ' and', ' then', ' more'];
    const tokens = [...sample.tokens, ...extra.map((token, i): TokenStep => ({ token, id: 1_000_200 + i, logprob: -0.3, top: [{ token, id: 1_000_200 + i, logprob: -0.3 }] }))];
    return { ...withTokens(sample, sample.tokens.length ? tokens : []), text: sample.text + extra.join(''), finishReason: 'length' };
  },
};

export const seedIgnored: FaultDefinition = {
  name: 'seed-ignored',
  kind: 'must-catch',
  backend: 'reference',
  description: 'seed ignored: seeded sampling gives another output on the golden backend (text and tokens rotated)',
  expect: ['exact'],
  applies: (c) => c.params.seed !== undefined && (c.params.temperature ?? 1) > 0,
  apply(sample) {
    if (sample.text.length < 2) return sample;
    const cut = Math.floor(sample.text.length / 2);
    const t = Math.floor(sample.tokens.length / 2);
    const tokens = [...sample.tokens.slice(t), ...sample.tokens.slice(0, t)];
    return { ...sample, text: sample.text.slice(cut) + sample.text.slice(0, cut), tokens: textIsTokens(sample) ? tokens : sample.tokens.length ? tokens : [] };
  },
};

export const NEAR_TIE_GAP = 0.05;

export const nearTieFlip: FaultDefinition = {
  name: 'near-tie-flip',
  kind: 'must-pass',
  backend: 'other',
  description: `at the first position where golden's top-2 are within ${NEAR_TIE_GAP} nats, the runner-up chosen instead (logprobs swapped); not applied where there is none`,
  expect: [],
  applies: (c) => judgedByDivergence(c) && requestCase(c),
  apply(sample, _testCase, { reference }) {
    if (!reference || !withLogprobs(sample) || !textIsTokens(sample) || sample.toolCalls.length > 0) return sample;
    const end = agreeingEnd(sample, reference);
    for (let i = 0; i < end; i++) {
      const ref = reference.tokens[i]!;
      const [first, second] = ref.top;
      if (!first || !second || first.logprob - second.logprob > NEAR_TIE_GAP) continue;
      const got = sample.tokens[i]!;
      const same = (a: { token: string; id?: number }, b: { token: string; id?: number }) => (a.id !== undefined && b.id !== undefined ? a.id === b.id : a.token === b.token);
      if (!same(first, got)) continue;
      const mine = got.top.find((t) => same(t, first));
      const runnerUp = got.top.find((t) => same(t, second));
      if (!mine || !runnerUp) continue;
      const [a, b] = [mine.logprob, runnerUp.logprob];
      const top = got.top
        .map((t) => (same(t, first) ? { ...t, logprob: b } : same(t, second) ? { ...t, logprob: a } : t))
        .sort((x, y) => y.logprob - x.logprob);
      const tokens = clone(sample.tokens);
      tokens[i] = { token: runnerUp.token, ...(runnerUp.id !== undefined && { id: runnerUp.id }), logprob: a, top };
      return withTokens(sample, tokens);
    }
    return sample;
  },
};
