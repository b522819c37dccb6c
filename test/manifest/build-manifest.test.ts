import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { caseResultId } from '../../src/core/ids.ts';
import { buildSummary } from '../../src/core/summary.ts';
import type { BackendConfig, BackendRun, CaseResult, GoldenFile, Sample, Suite } from '../../src/core/types.ts';
import { expandVariants } from '../../src/core/variants.ts';
import { buildManifest } from '../../src/manifest/build-manifest.ts';
import { divergenceGap, measureDrift } from '../../src/manifest/drift.ts';
import { kernelPlanOf, kvCacheOf } from '../../src/manifest/kernel-plan.ts';
import type { Drift } from '../../src/manifest/types.ts';
import { chatCase, sample, step, tokenSample } from '../assertions/samples.ts';
import { REPO } from '../helpers/conform-cli.ts';

const serve = (...extra: string[]): BackendConfig['launch'] => ({ command: 'conform', args: ['serve', '--gpu', 'cpu', '--model', '{model}', '--port', '{port}', '--threads', '1', ...extra] });
const CONFIG: BackendConfig[] = [
  { name: 'cpu', class: 'cpu', model: 'conform-tiny', launch: serve(), variants: [{ name: 'q8', set: { '--weights': 'q8_0', '--batch-size': '64' }, class: 'cpu-q8' }] },
  { name: 'ls', class: 'cpu', model: 'm', launch: { command: '/opt/llama/bin/llama-server', args: ['-m', '{model}', '--port', '{port}', '-fa', 'off', '-ctk', 'q8_0', '-ctv', 'q8_0', '-ub', '256', '-t', '4', '-ngl', '99'] } },
  { name: 'remote', class: 'gpu', model: 'm', baseUrl: 'http://gpu:8000/v1' },
];

// Golden: 4 greedy tokens, each with two alternatives. The q8 variant agrees for 2, then picks the runner-up.
const goldenTokens = [step('A', -0.1, [['A', -0.1], ['B', -2.5]]), step('b', -0.3, [['b', -0.3], ['c', -1.5]]), step('c', -0.6, [['c', -0.6], ['d', -0.8]]), step('d', -0.2, [['d', -0.2], ['e', -2]])];
const q8Tokens = [step('A', -0.15, [['A', -0.15], ['B', -2.4]]), step('b', -0.2, [['b', -0.2], ['c', -1.6]]), step('d', -0.65, [['d', -0.65], ['c', -0.7]]), step('x', -1, [['x', -1]])];
const golden: GoldenFile = {
  schemaVersion: 1,
  suite: 'smoke',
  provenance: { backend: 'cpu', identity: {}, conformVersion: '0.1.0', recordedAt: '2026-01-01T00:00:00Z', unsupported: { 'tool-stream': 'HTTP 400: logprobs is not supported with tools + stream' } },
  samples: { greedy: tokenSample(goldenTokens), json: tokenSample(goldenTokens.slice(0, 2)) },
};
const SUITES: Suite[] = [
  {
    name: 'smoke',
    description: '',
    file: 'suites/smoke.yaml',
    cases: [
      chatCase({ id: 'greedy', params: { logprobs: true, top_logprobs: 2 } }),
      chatCase({ id: 'json', params: { response_format: { type: 'json_schema', json_schema: { name: 'x', schema: {} } } }, checks: [{ kind: 'json-schema' }] }),
      chatCase({ id: 'named', params: { tools: [{ type: 'function', function: { name: 'get_time' } }], tool_choice: { type: 'function', function: { name: 'get_time' } } } }),
    ],
  },
];

function result(backend: string, caseId: string, s: Sample, check = 'greedy-divergence', status: 'pass' | 'fail' = 'pass'): CaseResult {
  return { id: caseResultId(backend, 'smoke', caseId), backend, suite: 'smoke', caseId, status, sample: s, verdicts: [{ check, status, message: status }] };
}
const streamed = (ttft: number): Partial<Sample> => ({ streamed: true, timings: { firstTokenMs: ttft, chunkMs: [ttft, ttft + 3, ttft + 6], endMs: ttft + 9 }, usage: { promptTokens: 5, completionTokens: 4 } });
const RESULTS = [
  result('cpu', 'greedy', tokenSample(goldenTokens, streamed(10))),
  result('cpu', 'json', tokenSample(goldenTokens.slice(0, 2)), 'json-schema'),
  result('cpu', 'named', sample({ toolCalls: [{ index: 0, id: 'c', name: 'get_time', arguments: '{}' }], finishReason: 'tool_calls' }), 'tool-call'),
  result('cpu@q8', 'greedy', tokenSample(q8Tokens, streamed(8))),
  result('cpu@q8', 'json', tokenSample(goldenTokens.slice(0, 1)), 'json-schema', 'fail'),
  result('cpu@q8', 'named', sample({ kind: 'http-error', error: { message: 'tool_choice not supported', status: 400 } }), 'request', 'fail'),
];
const run = (name: string, extra: Partial<BackendRun> = {}): BackendRun => ({ name, class: name === 'cpu@q8' ? 'cpu-q8' : 'cpu', state: 'ran', identity: { engine: 'llama.cpp (node-llama-cpp)', gpu: 'cpu', modelSha256: 'a'.repeat(64), model: 'conform-tiny.gguf', contextSize: 4096 }, ...extra });
const SUMMARY = buildSummary({
  runId: '20261201T000000Z-abcdef',
  conformVersion: '0.1.0',
  startedAt: '2026-12-01T00:00:00.000Z',
  finishedAt: '2026-12-01T00:05:00.000Z',
  backends: [run('cpu', { coldStart: { spawnToHealthyMs: 900, healthyToFirstAnswerMs: 30, firstAnswerTtftMs: 12 } }), run('cpu@q8')],
  suites: ['smoke'],
  results: RESULTS,
});

describe('drift against golden', () => {
  it('finds the divergence, its gap, KLD over the shared prefix plus the divergence, and |Δlogprob| before it', () => {
    const drift = measureDrift('cpu@q8', RESULTS, new Map([['smoke', golden]]));
    expect(drift).toMatchObject({ reference: 'cpu', comparedCases: 2, identicalCases: 0 });
    // greedy parts at token 2 (golden c, got d); json stops after 1 of golden's 2 tokens.
    expect(drift.divergences).toEqual([{ suite: 'smoke', caseId: 'json', index: 1, gap: null }, { suite: 'smoke', caseId: 'greedy', index: 2, gap: expect.closeTo(0.2, 9) }]);
    // gap: golden −0.6 − (−0.8) = 0.2; backend −0.65 − (−0.7) = 0.05; the larger counts.
    expect(divergenceGap(goldenTokens[2]!, q8Tokens[2]!)).toBeCloseTo(0.2, 9);
    expect(drift.absLogprobDelta).toEqual({ count: 3, p50: expect.closeTo(0.05, 9), p99: expect.closeTo(0.099, 9), max: expect.closeTo(0.1, 9) });
    expect(drift.kld.count).toBe(4); // greedy: positions 0, 1 and the divergence 2; json: position 0
    expect(drift.kld.max!).toBeGreaterThan(0);
    const self = measureDrift('cpu', RESULTS, new Map([['smoke', golden]]));
    expect(self).toMatchObject({ comparedCases: 2, identicalCases: 2, divergences: [], kld: { max: 0 }, absLogprobDelta: { max: 0 } });
  });
});

describe('kernel plan and KV cache from the launch', () => {
  it("reads conform serve's flags with its defaults, llama-server's with llama.cpp's, and nothing from a baseUrl", () => {
    const [cpu, q8, ls, remote] = expandVariants(CONFIG);
    expect(kernelPlanOf(cpu!)).toMatchObject({ flashAttention: true, batchSize: 512, microBatchSize: 512, threads: 1, parallel: 1, contextSize: null, gpuLayers: '0' });
    expect(kernelPlanOf(q8!)).toMatchObject({ batchSize: 64, microBatchSize: 64, launchArgs: [...cpu!.launch!.args, '--weights', 'q8_0', '--batch-size', '64'] });
    expect(kvCacheOf(cpu!)).toEqual({ key: 'F16', value: 'F16', source: 'conform serve default (llama.cpp F16)' });
    expect(kernelPlanOf(ls!)).toMatchObject({ flashAttention: false, batchSize: 2048, microBatchSize: 256, threads: 4, gpuLayers: '99' });
    expect(kvCacheOf(ls!)).toEqual({ key: 'Q8_0', value: 'Q8_0', source: 'launch args (-ctk/-ctv)' });
    expect(kernelPlanOf(remote!)).toMatchObject({ flashAttention: null, batchSize: null, launchArgs: [], source: expect.stringMatching(/^not launched by conform/) });
    expect(kvCacheOf(remote!)).toEqual({ absent: expect.stringMatching(/does not report its KV cache type/) });
  });
});

describe('buildManifest', () => {
  const manifest = buildManifest({
    summary: SUMMARY,
    release: 'v1.2.0',
    backends: expandVariants(CONFIG),
    reference: 'cpu',
    suites: SUITES,
    goldens: new Map([['smoke', golden]]),
    weights: { cpu: { fileType: 'ALL_F32', tensors: { attn_q: ['F32'] }, source: 'GGUF header of x.gguf' } },
    opCoverage: { cpu: { absent: 'not built' } },
    caveats: [{ backend: 'cpu@q8', suite: 'smoke', case: 'named', reason: 'tool_choice named is refused', expires: '2027-01-01' }, { backend: 'vulkan', reason: 'other', expires: '2027-01-01' }],
  });
  const [cpu, q8] = manifest.backends;

  it('is valid against the published schema', () => {
    const schema = JSON.parse(readFileSync(join(REPO, 'schemas', 'manifest.schema.json'), 'utf8'));
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    expect(validate(manifest), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...manifest, backends: [{ ...cpu, drift: { reference: 'cpu' } }] })).toBe(false);
  });

  it('says per backend what it is, what it ran at, how it fared and how far it drifts', () => {
    expect(manifest).toMatchObject({ schemaVersion: 1, release: 'v1.2.0', runId: '20261201T000000Z-abcdef', measuredAt: '2026-12-01T00:05:00.000Z', model: { name: 'conform-tiny.gguf', sha256: 'a'.repeat(64) } });
    expect(q8!.variantOf).toEqual({ backend: 'cpu', variant: 'q8' });
    expect(q8!.precision.weights).toEqual({ absent: `no local GGUF has sha256 ${'a'.repeat(64)}` });
    expect(cpu!.precision.compute).toEqual({ absent: 'llama.cpp does not report its compute type over HTTP' });
    expect(cpu!.verdicts.totals).toEqual({ pass: 3, fail: 0, error: 0, skip: 0 });
    expect(q8!.verdicts.suites.smoke).toEqual({ pass: 1, fail: 2, error: 0, skip: 0 });
    expect((q8!.drift as Drift).divergenceIndex).toMatchObject({ count: 2, p50: 1.5 });
    expect((cpu!.drift as Drift).identicalCases).toBe(2);
    expect(cpu!.latency).toMatchObject({ coldStart: { spawnToHealthyMs: 900 }, warmStart: { absent: expect.stringMatching(/no warm-start case ran/) } });
    expect(cpu!.opCoverage).toEqual({ absent: 'not built' });
    expect(q8!.opCoverage).toEqual({ absent: 'op coverage was not asked for (conform manifest --op-coverage)' });
  });

  it('derives features from the cases that asked for them, with the reason when one did not work', () => {
    expect(cpu!.features).toMatchObject({ logprobs: 'yes', topLogprobsCap: 2, namedToolChoice: 'yes', tools: 'yes', jsonSchema: 'yes', contextSize: 4096 });
    expect(cpu!.features.streamedTools).toBe('unknown: no case of this run asked for streamed tool calls');
    expect(q8!.features.namedToolChoice).toBe('no: smoke/named: http-error 400: tool_choice not supported');
    expect(q8!.features.jsonSchema).toBe('no: smoke/json: the answer did not validate against the schema');
  });

  it("lists each backend's caveats: its gate caveats, and for the reference the cases record could not serve", () => {
    expect(cpu!.caveats).toEqual({ expectedFailures: [], unsupported: [{ suite: 'smoke', case: 'tool-stream', reason: 'HTTP 400: logprobs is not supported with tools + stream' }] });
    expect(q8!.caveats.expectedFailures).toEqual([{ suite: 'smoke', case: 'named', reason: 'tool_choice named is refused', expires: '2027-01-01' }]);
  });

  it('is the same bytes for the same run, and carries a recommended plan over from the manifest it replaces', () => {
    const again = buildManifest({ summary: SUMMARY, release: 'v1.2.0', backends: expandVariants(CONFIG), reference: 'cpu', suites: SUITES, goldens: new Map([['smoke', golden]]), weights: {}, opCoverage: {}, previous: { ...manifest, backends: [{ ...cpu!, recommendedPlan: { variant: 'q8', launchArgs: [], since: 'r', metric: 'ttft-p50', reason: 'won' } }] } });
    expect(again.backends[0]!.recommendedPlan?.variant).toBe('q8');
    expect(JSON.stringify(buildManifest({ summary: SUMMARY, release: 'v1.2.0', backends: expandVariants(CONFIG), reference: 'cpu', suites: SUITES, goldens: new Map([['smoke', golden]]), weights: {}, opCoverage: {} }))).toBe(
      JSON.stringify(buildManifest({ summary: structuredClone(SUMMARY), release: 'v1.2.0', backends: expandVariants(CONFIG), reference: 'cpu', suites: SUITES, goldens: new Map([['smoke', golden]]), weights: {}, opCoverage: {} })),
    );
  });
});
