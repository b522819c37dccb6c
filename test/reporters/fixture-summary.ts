// A fixed run summary for the reporter tests, judged by the real comparators so every verdict, message and
// `details` object has exactly the shape `conform run` writes: 2 backends (cpu is golden's), 2 suites, a
// near-tie divergence, a confident flip, a tool-call mismatch, an infrastructure error, a skip, and model
// output that tries to break out of every format (HTML, XML, markdown tables, control characters).
import { exact } from '../../src/assertions/exact.ts';
import { greedyDivergence } from '../../src/assertions/greedy-divergence.ts';
import { toolCall } from '../../src/assertions/tool-call.ts';
import { caseResultId } from '../../src/core/ids.ts';
import { caseStatus } from '../../src/core/outcome.ts';
import { buildSummary } from '../../src/core/summary.ts';
import type { BackendRun, Case, CaseResult, GoldenFile, RunSummary, Sample, TokenStep, Tolerance, ToolCall, Verdict } from '../../src/core/types.ts';

/** The payload the HTML test looks for: if it ever runs, `window.__pwned` is set. */
export const HOSTILE = `<script>window.__pwned=1</script> ]]> & "double" 'single' \u0001 end`;

const TOLERANCE: Tolerance = { topK: 5, divergenceLogprobGap: 0.25, prefixLogprobDelta: 0.25 };
const STARTED = '2026-03-02T10:00:00.000Z';
const FINISHED = '2026-03-02T10:00:41.500Z';

let nextId = 400;
const ids = new Map<string, number>();
const idOf = (token: string) => ids.get(token) ?? (ids.set(token, nextId++), ids.get(token)!);

/** A greedy token with its logprob and alternatives ([token, logprob], best first), ids as a vocabulary gives them. */
function step(token: string, logprob: number, alternatives: Array<[string, number]> = []): TokenStep {
  const top = [[token, logprob] as [string, number], ...alternatives].sort((a, b) => b[1] - a[1]);
  return { token, logprob, id: idOf(token), top: top.map(([t, l]) => ({ token: t, logprob: l, id: idOf(t) })) };
}

function sample(tokens: TokenStep[], timings: { endMs: number; firstTokenMs?: number }, extra: Partial<Sample> = {}): Sample {
  const chunkMs = timings.firstTokenMs === undefined ? [] : tokens.map((_, i) => timings.firstTokenMs! + (i * (timings.endMs - timings.firstTokenMs!)) / Math.max(1, tokens.length));
  return {
    kind: 'ok',
    text: tokens.map((t) => t.token).join(''),
    tokens,
    toolCalls: [],
    finishReason: 'length',
    usage: { promptTokens: 31, completionTokens: tokens.length },
    timings: { chunkMs, ...timings },
    startedAt: STARTED,
    streamed: timings.firstTokenMs !== undefined,
    deviations: [],
    retries: 0,
    ...extra,
  };
}

// --- golden samples (recorded on cpu) ---------------------------------------------------------------

const helloGolden = [
  step('<script>', -0.02, [['<', -4.1]]),
  step('window', -0.05, [['document', -3.3]]),
  step('.__pwned', -0.11, [['.x', -2.9]]),
  step('=1', -0.6, [['=2', -0.75], ['=0', -2.4]]),
  step('</script>', -0.03, [['</', -3.8]]),
  step(' ]]>', -0.2, [[' ]]', -1.9]]),
  step(' &', -0.3, [[' and', -1.4]]),
  step(' "double"', -0.4, [[' "', -1.2]]),
  step(" 'single'", -0.5, [[" '", -1.1]]),
  step(' \u0001', -0.7, [[' \u0000', -1.6]]),
  step(' end', -0.1, [[' stop', -2.6]]),
];

const unicodeGolden = [step('The capital is', -0.01), step(' Paris', -0.05, [[' Lyon', -3.2], [' Nice', -4.0]]), step('.', -0.02)];
const completionGolden = [step(' a', -0.3, [[' the', -1.4]]), step(' conformance', -0.2), step(' test', -0.1)];
const seededGolden = [step('Once', -1.2, [['One', -1.3]]), step(' upon', -0.4)];
const toolGolden = [step('{"', -0.01), step('name', -0.02), step('":"', -0.01), step('get_time', -0.08, [['get_weather', -2.7]]), step('"}', -0.01)];
const jsonGolden = [step('{"name":"a|b', -0.2), step(' `x`', -0.3), step('","rank":3}', -0.05)];

const GOLDEN_TOOL_CALL: ToolCall = { index: 0, id: 'call_golden', name: 'get_time', arguments: '{"timezone":"America/Lima"}' };

const GOLDEN: Record<string, Record<string, Sample>> = {
  smoke: {
    'chat-hello': sample(helloGolden, { endMs: 41.2, firstTokenMs: 6.1 }),
    'chat-unicode': sample(unicodeGolden, { endMs: 22.4 }),
    'completion-stream': sample(completionGolden, { endMs: 24.6, firstTokenMs: 4.4 }),
    'chat-seeded-sampling': sample(seededGolden, { endMs: 17.7 }),
  },
  tools: {
    'tool-call-named': sample(toolGolden, { endMs: 75.9, firstTokenMs: 12.5 }, { text: '', toolCalls: [GOLDEN_TOOL_CALL], finishReason: 'tool_calls' }),
    'json-schema-answer': sample(jsonGolden, { endMs: 45.8 }, { finishReason: 'stop' }),
  },
};

// --- the cases -------------------------------------------------------------------------------------------

const TOOLS = [
  { type: 'function' as const, function: { name: 'get_time', parameters: { type: 'object', properties: { timezone: { type: 'string' } }, required: ['timezone'] } } },
  { type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string' } }, required: ['city'] } } },
];

function testCase(id: string, checks: string[], params: Case['params'] = {}): Case {
  return { id, endpoint: 'chat', messages: [{ role: 'user', content: 'x' }], params: { max_tokens: 24, temperature: 0, logprobs: true, top_logprobs: 10, ...params }, checks: checks.map((kind) => ({ kind })) };
}

const CASES: Record<string, Case[]> = {
  smoke: [
    testCase('chat-hello', ['exact', 'greedy-divergence']),
    testCase('chat-unicode', ['exact', 'greedy-divergence']),
    testCase('completion-stream', ['exact', 'greedy-divergence'], { stream: true }),
    testCase('chat-seeded-sampling', ['exact'], { temperature: 0.8, seed: 7 }),
  ],
  tools: [
    testCase('tool-call-named', ['tool-call', 'exact', 'greedy-divergence'], { max_tokens: 96, tools: TOOLS, tool_choice: { type: 'function', function: { name: 'get_time' } } }),
    testCase('json-schema-answer', ['exact', 'greedy-divergence'], { max_tokens: 96 }),
  ],
};

// --- what vulkan answered --------------------------------------------------------------------------------

/** Golden's tokens with every logprob nudged, as another kernel would compute them. */
function nudged(steps: TokenStep[], by = 0.01): TokenStep[] {
  return steps.map((s) => ({ ...s, logprob: s.logprob! - by, top: s.top.map((t) => ({ ...t, logprob: t.logprob - by })) }));
}

const VULKAN: Record<string, Record<string, Sample>> = {
  smoke: {
    // Near-tie at token 3: "=1" and "=2" are 0.15 nats apart on golden's side, and each is in the other's top-5.
    'chat-hello': sample([...nudged(helloGolden.slice(0, 3)), step('=2', -0.62, [['=1', -0.7], ['=0', -2.5]]), step('</script>', -0.04), step(' | done', -0.3)], { endMs: 619.4, firstTokenMs: 139.3 }),
    // Confident flip at token 1: golden's top-5 never considered " Ber|lin".
    'chat-unicode': sample([...nudged(unicodeGolden.slice(0, 1)), step(' Ber|lin', -0.4, [[' Paris', -1.5]]), step('.', -0.02)], { endMs: 1086.6 }),
    'completion-stream': {
      ...sample([], { endMs: 30012.5 }),
      kind: 'http-error',
      text: '',
      finishReason: null,
      error: { message: `upstream said <b>502</b> & "bad gateway" \u0000 ${HOSTILE}`, status: 502 },
    },
    'chat-seeded-sampling': sample(nudged(seededGolden), { endMs: 748.5 }),
  },
  tools: {
    'tool-call-named': sample([...nudged(toolGolden.slice(0, 3)), step('get_weather', -0.3, [['get_time', -1.1]]), step('"}', -0.01)], { endMs: 3377.1, firstTokenMs: 402.7 }, {
      text: '',
      toolCalls: [{ index: 0, id: 'call_vk', name: 'get_weather', arguments: '{"city":"Lima","unit":"c<&>\\"|"}' }],
      finishReason: 'tool_calls',
    }),
    'json-schema-answer': sample(nudged(jsonGolden), { endMs: 982.6 }, { finishReason: 'stop' }),
  },
};

const COMPARATORS = { exact, 'greedy-divergence': greedyDivergence, 'tool-call': toolCall } as const;

function judge(c: Case, s: Sample, golden: Sample, sameBackendAsReference: boolean): Verdict[] {
  // As evaluateSample does: a sample that is not ok gets one error verdict.
  if (s.kind !== 'ok') return [{ check: 'sample', status: 'error', measured: s.kind, message: `${s.kind}: ${s.error?.message ?? 'no details'}` }];
  return c.checks.map((spec) => COMPARATORS[spec.kind as keyof typeof COMPARATORS].compare({ sample: s, reference: golden, sameBackendAsReference, tolerance: TOLERANCE, spec, testCase: c }));
}

function resultFor(backend: string, suite: string, c: Case, s: Sample): CaseResult {
  const verdicts = judge(c, s, GOLDEN[suite]![c.id]!, backend === 'cpu');
  return { id: caseResultId(backend, suite, c.id), backend, suite, caseId: c.id, status: caseStatus(verdicts), sample: s, verdicts };
}

export const BACKENDS: BackendRun[] = [
  {
    name: 'cpu',
    class: 'cpu',
    state: 'ran',
    identity: { engine: 'llama.cpp (node-llama-cpp)', engineVersion: 'node-llama-cpp 3.21.1, llama.cpp v0.4.0', device: 'AMD EPYC', driver: 'ggml-cpu', gpu: 'cpu', model: 'conform-tiny', modelSha256: '1728dcc6d835e8a99b1c542c0f9c685cee750134a114258ae0d994e3e9e4cac0' },
    logFile: '/work/main/reports/20260302T100000Z-5eed01/logs/cpu.log',
    coldStart: { spawnToHealthyMs: 1656.5, healthyToFirstAnswerMs: 15.0, firstAnswerTtftMs: 14.7 },
  },
  {
    name: 'vulkan',
    class: 'software-gpu',
    state: 'ran',
    identity: { engine: 'llama.cpp (node-llama-cpp)', engineVersion: 'node-llama-cpp 3.21.1, llama.cpp v0.4.0', device: 'llvmpipe (LLVM 15.0.6, 256 bits)', driver: 'Mesa llvmpipe (software Vulkan)', gpu: 'vulkan', model: 'conform-tiny', modelSha256: '1728dcc6d835e8a99b1c542c0f9c685cee750134a114258ae0d994e3e9e4cac0' },
    logFile: '/work/main/reports/20260302T100000Z-5eed01/logs/vulkan.log',
    coldStart: { spawnToHealthyMs: 12870.3, healthyToFirstAnswerMs: 215.5, firstAnswerTtftMs: 215.4 },
  },
];

/** The fixed summary: cpu agrees with golden everywhere; vulkan has one of every kind of trouble. */
export function fixtureSummary(): RunSummary {
  const results: CaseResult[] = [];
  for (const backend of ['cpu', 'vulkan'])
    for (const suite of ['smoke', 'tools'])
      for (const c of CASES[suite]!) {
        const s = backend === 'cpu' ? structuredClone(GOLDEN[suite]![c.id]!) : structuredClone(VULKAN[suite]![c.id]!);
        results.push(resultFor(backend, suite, c, s));
      }
  // vulkan's seeded-sampling case is exact-only, and exact applies on golden's backend only: a skip.
  return buildSummary({ runId: '20260302T100000Z-5eed01', conformVersion: '0.1.0', startedAt: STARTED, finishedAt: FINISHED, backends: structuredClone(BACKENDS), suites: ['smoke', 'tools'], results });
}

/** The golden files the run compared against, recorded on cpu before the run. */
export function fixtureGoldens(recordedAt = '2026-03-01T09:00:00.000Z'): Map<string, GoldenFile> {
  return new Map(
    Object.entries(GOLDEN).map(([suite, samples]): [string, GoldenFile] => [
      suite,
      { schemaVersion: 1, suite, provenance: { backend: 'cpu', identity: BACKENDS[0]!.identity, conformVersion: '0.1.0', recordedAt }, samples: structuredClone(samples) },
    ]),
  );
}

/** Replaces what differs between otherwise equal runs (run id, clock times, machine paths) with fixed stand-ins. */
export function maskVolatile(summary: RunSummary): RunSummary {
  const masked = structuredClone(summary);
  masked.runId = 'RUN-ID';
  masked.startedAt = '2000-01-01T00:00:00.000Z';
  masked.finishedAt = '2000-01-01T00:00:01.000Z';
  for (const b of masked.backends) if (b.logFile) b.logFile = `<run>/logs/${b.name}.log`;
  for (const r of masked.results) if (r.sample) r.sample.startedAt = '2000-01-01T00:00:00.000Z';
  return masked;
}
