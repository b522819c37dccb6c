// Routing a run's backends per request class under a policy, on a run record built like `conform run`
// writes it: two backends with telemetry, prompts short and long, one suite failing on one backend.

import { describe, expect, it } from 'vitest';
import { ConformError } from '../../src/core/errors.ts';
import { caseResultId } from '../../src/core/ids.ts';
import { buildSummary } from '../../src/core/summary.ts';
import type { RequestRecord } from '../../src/core/telemetry-types.ts';
import type { BackendRun, CaseResult, RunSummary } from '../../src/core/types.ts';
import { rankBackends } from '../../src/routing/rank-backends.ts';
import { validateRoutePolicy } from '../../src/routing/route-policy.ts';
import { renderRoutingMarkdown } from '../../src/routing/routing-markdown.ts';
import { deriveTelemetry } from '../../src/telemetry/derive-telemetry.ts';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');

interface CaseSpec {
  suite: string;
  caseId: string;
  prompt: number;
  ttftMs: number;
  endMs: number;
  status?: 'pass' | 'fail';
}

function backend(name: string, cases: CaseSpec[], extra: Partial<BackendRun>, perHour: number | undefined): { run: BackendRun; results: CaseResult[] } {
  let at = T0;
  const records: RequestRecord[] = [];
  const results = cases.map((c): CaseResult => {
    const startMs = at;
    at += c.endMs;
    records.push({ caseId: c.caseId, startMs, endMs: at, ok: true, streamed: true, ttftMs: c.ttftMs, promptTokens: c.prompt, completionTokens: 20, fingerprint: c.caseId });
    const status = c.status ?? 'pass';
    return {
      id: caseResultId(name, c.suite, c.caseId),
      backend: name,
      suite: c.suite,
      caseId: c.caseId,
      status,
      verdicts: [{ check: 'greedy-divergence', status, message: status === 'pass' ? 'agrees' : 'confident flip at token 3' }],
      sample: { kind: 'ok', text: 'x', tokens: [], toolCalls: [], finishReason: 'length', usage: { promptTokens: c.prompt, completionTokens: 20 }, timings: { chunkMs: [], firstTokenMs: c.ttftMs, endMs: c.endMs }, startedAt: new Date(startMs).toISOString(), streamed: true, deviations: [], retries: 0 },
    };
  });
  const telemetry = deriveTelemetry({ concurrency: 1, start: T0, end: at, records, ...(perHour !== undefined && { cost: { perHour, note: 'example price' } }), energy: { requested: 'auto', source: 'none', series: [], samples: 0, reason: 'none here' } });
  return { run: { name, class: 'cpu', state: 'ran', identity: {}, telemetry, ...extra }, results };
}

function fixtureRun(): RunSummary {
  const cases = (scale: number, failTools: boolean): CaseSpec[] => [
    ...[1, 2, 3, 4].map((i) => ({ suite: 'smoke', caseId: `short-${i}`, prompt: 40, ttftMs: 5 * scale, endMs: 100 * scale })),
    ...[1, 2].map((i) => ({ suite: 'long-context', caseId: `long-${i}`, prompt: 4000, ttftMs: 800 * scale, endMs: 1000 * scale })),
    { suite: 'function-calling', caseId: 'tool', prompt: 200, ttftMs: 20 * scale, endMs: 200 * scale, status: failTools ? 'fail' : 'pass' },
  ];
  // cpu: fast but dearer per hour; gpu: a third of the latency at twice the hourly price; its tools fail.
  const cpu = backend('cpu', cases(3, false), { labels: { region: 'eu-west' } }, 0.1);
  const gpu = backend('gpu', cases(1, true), { labels: { region: 'us-east' } }, 0.2);
  return buildSummary({ runId: 'RUN', conformVersion: '0.1.0', startedAt: new Date(T0).toISOString(), finishedAt: new Date(T0 + 60_000).toISOString(), backends: [cpu.run, gpu.run], suites: ['smoke', 'long-context', 'function-calling'], results: [...cpu.results, ...gpu.results] });
}

describe('rankBackends', () => {
  const summary = fixtureRun();

  it('per class: the cheapest backend that meets every constraint, and why the others do not', () => {
    const policy = validateRoutePolicy(
      {
        defaults: { requireSuites: ['smoke'] },
        classes: [
          { name: 'short-bursts', match: { maxPromptTokens: 512, suites: ['smoke'] }, ttft: { percentile: 90, maxMs: 10 } },
          { name: 'long-prompts', match: { minPromptTokens: 1000 }, maxCostPer1k: 0.01 },
          { name: 'tools', match: { suites: ['function-calling'] } },
          { name: 'eu-only', labels: { region: 'eu-west' }, requirePassing: false },
        ],
      },
      'policy.yaml',
    );
    const table = rankBackends(summary, policy, 'policy.yaml');
    const [short, long, tools, eu] = table.classes;
    // Short bursts: cpu's p90 TTFT is 15 ms, over the 10 ms cap; gpu's 5 ms is within it.
    expect(short).toMatchObject({ route: 'gpu', candidates: [{ backend: 'gpu', eligible: true }, { backend: 'cpu', eligible: false, reasons: ['p90 TTFT 15.0 ms is over 10 ms'] }] });
    // Long prompts: at a third of the time and twice the price per hour, gpu costs 2/3 of cpu per token.
    expect(long!.route).toBe('gpu');
    expect(long!.candidates[0]!.costPer1k! / long!.candidates[1]!.costPer1k!).toBeCloseTo(2 / 3, 9);
    expect(tools).toMatchObject({ route: 'cpu', candidates: [{ backend: 'cpu', eligible: true }, { backend: 'gpu', eligible: false, reasons: ['1 of its 1 cases in this class do not pass'] }] });
    expect(eu).toMatchObject({ name: 'eu-only', route: 'cpu', candidates: [{ backend: 'cpu' }, { backend: 'gpu', reasons: ['label region is "us-east", the policy requires "eu-west"'] }] });
    expect(table).toMatchObject({ schemaVersion: 1, runId: 'RUN', policy: 'policy.yaml' });
  });

  it('no route when nobody qualifies, with every reason', () => {
    const table = rankBackends(summary, validateRoutePolicy({ classes: [{ name: 'impossible', maxCostPer1k: 1e-9, requireSuites: ['determinism'] }] }, 'p'), 'p');
    expect(table.classes[0]!.route).toBeNull();
    // Ranked by cost among the excluded too: gpu is the cheaper.
    expect(table.classes[0]!.candidates.map((c) => [c.backend, c.reasons])).toEqual([
      ['gpu', ['suite determinism was not run on it', '1 of its 7 cases in this class do not pass', expect.stringMatching(/^cost per 1K tokens [\d.e-]+ USD is over 1e-9$/)]],
      ['cpu', ['suite determinism was not run on it', expect.stringMatching(/^cost per 1K tokens [\d.e-]+ USD is over 1e-9$/)]],
    ]);
  });

  it('explains the table in Markdown, escaping what a policy or config names', () => {
    const table = rankBackends(summary, validateRoutePolicy({ classes: [{ name: 'a|<b>*c*', match: { maxPromptTokens: 512 } }] }, 'p'), 'p');
    const md = renderRoutingMarkdown(table);
    expect(md).toContain('| **a\\|&lt;b&gt;\\*c\\*** (prompts of at most 512 tokens) | **cpu** | the only backend that meets every constraint (');
    expect(md).toContain('gpu: 1 of its 5 cases in this class do not pass');
    expect(md).toContain('(example price)');
  });
});

describe('validateRoutePolicy', () => {
  const bad = (raw: unknown) => {
    try {
      validateRoutePolicy(raw, 'route.yaml');
    } catch (error) {
      expect(error).toBeInstanceOf(ConformError);
      return (error as Error).message;
    }
    return 'accepted';
  };

  it('a policy without classes is one class of every request, with the defaults', () => {
    expect(validateRoutePolicy({ defaults: { maxCostPer1k: 0.5 } }, 'p')).toEqual({ classes: [{ name: 'all requests', match: {}, maxCostPer1k: 0.5 }] });
  });

  it('names the field and what was expected', () => {
    expect(bad({ classes: [{ name: 'x', ttft: { maxMs: -1 } }] })).toBe('route.yaml: classes[0].ttft must be { percentile, maxMs } with maxMs > 0, for example { percentile: 90, maxMs: 500 }');
    expect(bad({ classes: [{ name: 'x', match: { minPromptTokens: 10, maxPromptTokens: 5 } }] })).toBe('route.yaml: classes[0].match.minPromptTokens 10 is above maxPromptTokens 5');
    expect(bad({ classes: [{ name: 'x' }, { name: 'x' }] })).toBe('route.yaml: classes[1].name "x" is used twice');
    expect(bad({ classes: [{ name: 'x', cost: 1 }] })).toMatch(/^route.yaml: classes\[0\]: unknown field "cost"; known: name, match, ttft/);
    expect(bad({ defaults: { labels: { region: 1 } } })).toBe('route.yaml: defaults.labels must map label names to strings, for example { region: eu-west }');
    expect(bad([])).toMatch(/a route policy is an object/);
  });
});
