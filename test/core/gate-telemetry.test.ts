// Gate policies on cost per 1K tokens and joules per output token, on run summaries whose telemetry was
// derived by the real code from requests with known costs.

import { describe, expect, it } from 'vitest';
import { ConformError } from '../../src/core/errors.ts';
import { evaluateGate, validateGatePolicy } from '../../src/core/gate.ts';
import { caseResultId } from '../../src/core/ids.ts';
import { buildSummary } from '../../src/core/summary.ts';
import type { RequestRecord } from '../../src/core/telemetry-types.ts';
import type { BackendRun, CaseResult, RunSummary } from '../../src/core/types.ts';
import { deriveTelemetry } from '../../src/telemetry/derive-telemetry.ts';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const NOW = new Date('2026-01-02T00:00:00.000Z');

interface RunSpec {
  /** Each request's duration in ms; one case per entry. */
  durations: number[];
  perHour?: number;
  /** Constant power during the window, or no energy at all. */
  watts?: number;
}

/** A run of one backend whose requests follow each other, each 100 prompt + 20 output tokens. */
function run(spec: RunSpec, runId = 'RUN'): RunSummary {
  let at = T0;
  const records: RequestRecord[] = [];
  const results: CaseResult[] = spec.durations.map((ms, i) => {
    const startMs = at;
    at += ms;
    records.push({ caseId: `c${i}`, startMs, endMs: at, ok: true, streamed: true, ttftMs: ms / 4, promptTokens: 100, completionTokens: 20, fingerprint: `c${i}` });
    return {
      id: caseResultId('gpu', 'smoke', `c${i}`),
      backend: 'gpu',
      suite: 'smoke',
      caseId: `c${i}`,
      status: 'pass',
      verdicts: [{ check: 'exact', status: 'pass', message: 'identical' }],
      sample: { kind: 'ok', text: 'x', tokens: [], toolCalls: [], finishReason: 'length', usage: { promptTokens: 100, completionTokens: 20 }, timings: { chunkMs: [], firstTokenMs: ms / 4, endMs: ms }, startedAt: new Date(startMs).toISOString(), streamed: true, deviations: [], retries: 0 },
    };
  });
  const energy =
    spec.watts === undefined
      ? { requested: 'auto' as const, source: 'none' as const, series: [], samples: 0, reason: 'no /sys/class/powercap on this machine' }
      : { requested: 'nvidia-smi' as const, source: 'nvidia-smi' as const, method: 'integrated-power' as const, series: [[T0, 0], [at, (spec.watts * (at - T0)) / 1000]] as Array<[number, number]>, samples: 2 };
  const backend: BackendRun = {
    name: 'gpu',
    class: 'gpu',
    state: 'ran',
    identity: {},
    telemetry: deriveTelemetry({ concurrency: 1, start: T0, end: at, records, ...(spec.perHour !== undefined && { cost: { perHour: spec.perHour } }), energy }),
  };
  return buildSummary({ runId, conformVersion: '0.1.0', startedAt: new Date(T0).toISOString(), finishedAt: new Date(at).toISOString(), backends: [backend], suites: ['smoke'], results });
}

const steady = (n: number, ms: number) => Array.from({ length: n }, (_, i) => ms + (i % 3) * 10);

describe('cost per 1K tokens in the gate', () => {
  // 120 tokens per second at 3.60 per hour: 3.6 / (3.6 × 120) ≈ 0.00833 per 1K tokens.
  const current = run({ durations: steady(12, 1000), perHour: 3.6 });

  it('a ceiling the measured figure exceeds fails the gate, with the figure, the ceiling and the test', () => {
    const decision = evaluateGate(current, current, { costPer1k: { max: 0.005 } }, NOW);
    expect(decision.pass).toBe(false);
    const reason = decision.reasons.find((r) => r.kind === 'cost-over-limit')!;
    expect(reason).toMatchObject({ severity: 'failure', backend: 'gpu' });
    expect(reason.message).toMatch(/^gpu: cost per 1K tokens 0\.008\d+ per 1K tokens is over the policy's ceiling 0\.005 per 1K tokens; one-sided Wilcoxon signed-rank over 12 requests p=[\d.e-]+ < α=0\.01$/);
  });

  it('a ceiling above the figure passes and says so', () => {
    const decision = evaluateGate(current, current, { costPer1k: { max: 0.02 } }, NOW);
    expect(decision.pass).toBe(true);
    expect(decision.telemetry).toEqual([expect.objectContaining({ metric: 'cost-per-1k', outcome: 'ok', max: 0.02, n: 12 })]);
  });

  it('too few requests are not judged, and say why', () => {
    const few = run({ durations: steady(5, 1000), perHour: 3.6 });
    const decision = evaluateGate(few, few, { costPer1k: { max: 0.005 } }, NOW);
    expect(decision.pass).toBe(true);
    expect(decision.reasons.find((r) => r.kind === 'telemetry-not-judged')?.message).toMatch(/4 requests, policy minSamples 8$|5 requests, policy minSamples 8$/);
  });

  it('an increase over the baseline, paired per case, fails past the policy', () => {
    const slower = run({ durations: steady(12, 1600), perHour: 3.6 }, 'SLOWER');
    const decision = evaluateGate(slower, current, { costPer1k: { increase: 0.25 } }, NOW);
    expect(decision.pass).toBe(false);
    expect(decision.reasons.find((r) => r.kind === 'cost-regression')?.message).toMatch(/^gpu: cost per 1K tokens 1\.[56]\dx the baseline on the median case \(limit \+25 %\); one-sided Wilcoxon signed-rank over 12 paired cases p=/);
    expect(evaluateGate(current, slower, { costPer1k: { increase: 0.25 } }, NOW).pass).toBe(true);
  });

  it('a backend without a cost is reported, not failed', () => {
    const unpriced = run({ durations: steady(12, 1000) });
    const decision = evaluateGate(unpriced, unpriced, { costPer1k: { max: 0.001 } }, NOW);
    expect(decision.pass).toBe(true);
    expect(decision.reasons).toContainEqual(expect.objectContaining({ kind: 'telemetry-not-judged', message: 'gpu: cost per 1K tokens not judged: the backend has no cost in its config' }));
  });
});

describe('joules per output token in the gate', () => {
  it('per-request energy from the series: 300 W for 1 s over 20 tokens is 15 J/token, over a 10 J ceiling', () => {
    const hot = run({ durations: steady(12, 1000), watts: 300 });
    expect(hot.backends[0]!.telemetry!.energy.joulesPerOutputToken).toBeCloseTo((300 * hot.backends[0]!.telemetry!.window.durationMs) / 1000 / 240, 9);
    const decision = evaluateGate(hot, hot, { joulesPerToken: { max: 10 } }, NOW);
    expect(decision.pass).toBe(false);
    expect(decision.reasons.find((r) => r.kind === 'energy-over-limit')?.message).toMatch(/^gpu: joules per output token 1[56]\.\d* J per output token is over the policy's ceiling 10 J per output token/);
  });

  it('energy that was not measured is reported with its reason, never judged as 0', () => {
    const dark = run({ durations: steady(12, 1000) });
    const decision = evaluateGate(dark, dark, { joulesPerToken: { max: 0.001 } }, NOW);
    expect(decision.pass).toBe(true);
    expect(decision.reasons).toContainEqual(expect.objectContaining({ kind: 'telemetry-not-judged', severity: 'info', message: 'gpu: joules per output token not judged: no /sys/class/powercap on this machine' }));
  });
});

describe('policy validation', () => {
  const bad = (raw: unknown) => {
    try {
      validateGatePolicy(raw, 'policy.yaml');
    } catch (error) {
      expect(error).toBeInstanceOf(ConformError);
      return (error as Error).message;
    }
    return 'accepted';
  };

  it('names the field and gives an example', () => {
    expect(validateGatePolicy({ costPer1k: { max: 0.002, increase: 0.25 }, joulesPerToken: { max: 1 } }, 'p')).toEqual({ costPer1k: { max: 0.002, increase: 0.25 }, joulesPerToken: { max: 1 } });
    expect(bad({ costPer1k: 0.002 })).toBe('policy.yaml: costPer1k must be an object with max and/or increase, for example { max: 0.002, increase: 0.25 }');
    expect(bad({ costPer1k: { max: -1 } })).toBe('policy.yaml: costPer1k.max -1 must be a number > 0, for example 0.002');
    expect(bad({ joulesPerToken: { ceiling: 1 } })).toBe('policy.yaml: joulesPerToken: unknown field "ceiling"; known: max, increase');
    expect(bad({ joulesPerToken: {} })).toBe('policy.yaml: joulesPerToken needs max, increase or both');
  });
});
