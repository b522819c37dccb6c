// Small builders for comparator tests: a Sample, a TokenStep and a Case with only what a test sets.
import type { CompareInput } from '../../src/assertions/comparator.ts';
import type { BackendIdentity, Case, CheckSpec, GoldenProvenance, Sample, TokenStep, Tolerance, TopLogprob, ToolCall } from '../../src/core/types.ts';

export function sample(overrides: Partial<Sample> = {}): Sample {
  return {
    kind: 'ok',
    text: '',
    tokens: [],
    toolCalls: [],
    finishReason: 'stop',
    timings: { chunkMs: [], endMs: 0 },
    startedAt: '2025-01-01T00:00:00.000Z',
    streamed: false,
    deviations: [],
    retries: 0,
    ...overrides,
  };
}

/** A sample whose text is the concatenation of its token strings, as a real server's would be. */
export function tokenSample(tokens: TokenStep[], overrides: Partial<Sample> = {}): Sample {
  return sample({ text: tokens.map((t) => t.token).join(''), tokens, ...overrides });
}

/** A generated token: its own logprob, then alternatives given as [token, logprob] pairs, best first. */
export function step(token: string, logprob: number, top: Array<[string, number]> = [[token, logprob]]): TokenStep {
  return { token, logprob, top: top.map(([t, l]): TopLogprob => ({ token: t, logprob: l })) };
}

export function call(name: string, args: string, index = 0): ToolCall {
  return { index, id: `call_${index}`, name, arguments: args };
}

export function chatCase(overrides: Partial<Case> = {}): Case {
  return {
    id: 'case-a',
    endpoint: 'chat',
    messages: [{ role: 'user', content: 'Say hello.' }],
    params: { max_tokens: 24, temperature: 0 },
    checks: [{ kind: 'greedy-divergence' }],
    ...overrides,
  };
}

export const TOL: Tolerance = { topK: 5, divergenceLogprobGap: 0.25, prefixLogprobDelta: 0.25 };

export function input(fields: {
  sample: Sample;
  reference?: Sample;
  sameBackendAsReference?: boolean;
  tolerance?: Tolerance;
  spec?: CheckSpec;
  testCase?: Case;
  identity?: BackendIdentity;
  goldenProvenance?: GoldenProvenance;
}): CompareInput {
  return {
    sample: fields.sample,
    reference: fields.reference,
    sameBackendAsReference: fields.sameBackendAsReference ?? false,
    tolerance: fields.tolerance ?? TOL,
    spec: fields.spec ?? { kind: 'greedy-divergence' },
    testCase: fields.testCase ?? chatCase(),
    identity: fields.identity,
    goldenProvenance: fields.goldenProvenance,
  };
}

/** Golden's provenance as `conform record` writes it, with the identity fields a test sets. */
export function provenance(identity: BackendIdentity = {}, extra: Partial<GoldenProvenance> = {}): GoldenProvenance {
  return { backend: 'cpu', identity, modelSha256: identity.modelSha256, conformVersion: '0.1.0', recordedAt: '2026-11-28T18:51:06.080Z', ...extra };
}
