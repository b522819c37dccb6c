import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ConformError } from '../../src/core/errors.ts';
import { erfc, evaluateGate, mannWhitneyU, normalUpperTail, quantile, validateGatePolicy, type GateDecision, type GatePolicy, type GateReasonKind } from '../../src/core/gate.ts';
import type { CaseResult, RunSummary } from '../../src/core/types.ts';
import { backendRun, passingCases, result, summary } from './run-summary-fixtures.ts';

describe('mannWhitneyU against hand-computed values', () => {
  it('x = [4,5,6] over y = [1,2,3]: U = 9, σ² = 9/12·7 = 5.25, z = (9 − 4.5 − 0.5)/√5.25, p = 0.0404278', () => {
    const r = mannWhitneyU([4, 5, 6], [1, 2, 3]);
    expect(r.u).toBe(9);
    expect(r.z).toBeCloseTo(4 / Math.sqrt(5.25), 10);
    expect(r.p).toBeCloseTo(0.04042779918502612, 6); // scipy mannwhitneyu(alternative='greater', method='asymptotic')
  });

  it('with ties: x = [2,3,3,4], y = [1,2,2,3]', () => {
    // Pooled: 1y 2x 2y 2y 3x 3x 3y 4x; mid-ranks 1, 3,3,3, 6,6,6, 8. R_x = 3 + 6 + 6 + 8 = 23, U = 23 − 4·5/2 = 13.
    // Ties: two groups of 3, Σ(t³ − t) = 48. σ² = 4·4/12 · (9 − 48/(8·7)) = 10.857142…, z = (13 − 8 − 0.5)/σ = 1.36570.
    const r = mannWhitneyU([2, 3, 3, 4], [1, 2, 2, 3]);
    expect(r.u).toBe(13);
    expect(r.z).toBeCloseTo(4.5 / Math.sqrt((16 / 12) * (9 - 48 / 56)), 10);
    expect(r.p).toBeCloseTo(0.08601685446091145, 6);
  });

  it('eight clearly later values: U = 64 = n_x·n_y, σ² = 64/12·17, p = 4.6955e-4', () => {
    const r = mannWhitneyU([10, 11, 12, 13, 14, 15, 16, 17], [1, 2, 3, 4, 5, 6, 7, 8]);
    expect(r.u).toBe(64);
    expect(r.z).toBeCloseTo(31.5 / Math.sqrt((64 / 12) * 17), 10);
    expect(r.p).toBeCloseTo(0.00046955284955859495, 8);
  });

  it('identical samples: U = n²/2 and p just above one half (continuity correction)', () => {
    const r = mannWhitneyU([1, 2, 3], [1, 2, 3]);
    expect(r.u).toBe(4.5);
    expect(r.p).toBeCloseTo(0.5902615116112394, 6);
  });

  it('no spread at all: p = 1', () => {
    expect(mannWhitneyU([5, 5, 5], [5, 5])).toEqual({ u: 3, z: 0, p: 1 });
  });

  it('needs a value on each side', () => {
    expect(() => mannWhitneyU([], [1])).toThrow(RangeError);
  });

  it('U counts the pairs x > y, ties one half, and U_x + U_y = n_x·n_y', () => {
    const values = fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 25 });
    fc.assert(
      fc.property(values, values, (x, y) => {
        let pairs = 0;
        for (const a of x) for (const b of y) pairs += a > b ? 1 : a === b ? 0.5 : 0;
        const forward = mannWhitneyU(x, y);
        expect(forward.u).toBeCloseTo(pairs, 9);
        expect(forward.u + mannWhitneyU(y, x).u).toBeCloseTo(x.length * y.length, 9);
        expect(forward.p).toBeGreaterThanOrEqual(0);
        expect(forward.p).toBeLessThanOrEqual(1);
      }),
      { numRuns: 200 },
    );
  });

  it('erfc and the normal tail match tabulated values', () => {
    expect(erfc(0)).toBeCloseTo(1, 7);
    expect(erfc(1)).toBeCloseTo(0.157299207050285, 7);
    expect(erfc(-1)).toBeCloseTo(1.842700792949715, 7);
    expect(normalUpperTail(1.959963984540054)).toBeCloseTo(0.025, 7);
    expect(normalUpperTail(2.326347874040841)).toBeCloseTo(0.01, 7);
    expect(normalUpperTail(-Infinity)).toBe(1);
    expect(normalUpperTail(Infinity)).toBe(0);
  });

  it('quantile interpolates between closest ranks, as numpy does', () => {
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBeCloseTo(9.1, 12);
    expect(quantile([5, 1, 3], 0.9)).toBeCloseTo(4.6, 12);
    expect(quantile([7], 0.9)).toBe(7);
  });
});

const NOW = new Date('2026-06-01T12:00:00Z');
const FUTURE = '2026-12-31';
const PAST = '2026-05-31';

// Ten cases per side: enough samples for the latency test at the default minSamples 8.
const FAST = [100, 104, 98, 101, 97, 103, 99, 102, 100, 96];
const SLOW = FAST.map((ms) => ms * 2);
const base = (): CaseResult[] => [
  ...passingCases(10, FAST, 'cpu'),
  ...passingCases(10, FAST, 'vulkan'),
  result({ backend: 'vulkan', caseId: 'known-bad', status: 'fail' }),
];
const replace = (results: CaseResult[], backend: string, caseId: string, next: CaseResult | undefined) =>
  results.flatMap((r) => (r.backend === backend && r.caseId === caseId ? (next ? [next] : []) : [r]));
const BASELINE = summary(base(), { runId: 'baseline' });
const current = (results: CaseResult[], backends?: RunSummary['backends']) => summary(results, { runId: 'current', ...(backends && { backends }) });

interface Row {
  name: string;
  current: RunSummary;
  policy?: GatePolicy;
  pass: boolean;
  failures: GateReasonKind[];
  infos?: GateReasonKind[];
  mentions?: RegExp;
}

const rows: Row[] = [
  { name: 'clean rerun', current: current(base()), pass: true, failures: [] },
  {
    name: 'a case that passed now fails',
    current: current(replace(base(), 'cpu', 'case-3', result({ caseId: 'case-3', status: 'fail', message: 'differs from golden at token 2' }))),
    pass: false,
    failures: ['regression'],
    mentions: /^cpu\/smoke\/case-3: passed in the baseline, fails now \(exact: differs from golden at token 2\)$/,
  },
  {
    name: 'a case that passed now errors',
    current: current(replace(base(), 'cpu', 'case-3', result({ caseId: 'case-3', status: 'error' }))),
    pass: false,
    failures: ['regression'],
    mentions: /^cpu\/smoke\/case-3: passed in the baseline, errors now/,
  },
  {
    name: 'new error on a case that failed before',
    current: current(replace(base(), 'vulkan', 'known-bad', result({ backend: 'vulkan', caseId: 'known-bad', status: 'error' }))),
    pass: false,
    failures: ['new-error'],
    mentions: /^vulkan\/smoke\/known-bad: errors now, was fail in the baseline/,
  },
  {
    name: 'new error on a case new since the baseline',
    current: current([...base(), result({ caseId: 'brand-new', status: 'error' })]),
    pass: false,
    failures: ['new-error'],
    mentions: /^cpu\/smoke\/brand-new: errors now, new since the baseline/,
  },
  {
    name: 'a failing case known before is not a regression',
    current: current(base()),
    pass: true,
    failures: [],
  },
  {
    name: 'caveat: an expected failure does not fail the gate',
    current: current(replace(base(), 'vulkan', 'case-1', result({ backend: 'vulkan', caseId: 'case-1', status: 'fail' }))),
    policy: { caveats: [{ backend: 'vulkan', suite: 'smoke', case: 'case-1', reason: 'driver bug #42', expires: FUTURE }] },
    pass: true,
    failures: [],
    infos: ['expected-failure'],
    mentions: /^vulkan\/smoke\/case-1: passed in the baseline, fails now .* — expected: caveat "driver bug #42" until 2026-12-31$/,
  },
  {
    name: 'caveat over a whole backend covers its errors too',
    current: current(replace(base(), 'vulkan', 'case-1', result({ backend: 'vulkan', caseId: 'case-1', status: 'error' }))),
    policy: { caveats: [{ backend: 'vulkan', reason: 'flaky runner', expires: FUTURE }] },
    pass: true,
    failures: [],
    infos: ['expected-failure'],
  },
  {
    name: 'expired caveat: reported, and the failure counts again',
    current: current(replace(base(), 'vulkan', 'case-1', result({ backend: 'vulkan', caseId: 'case-1', status: 'fail' }))),
    policy: { caveats: [{ backend: 'vulkan', case: 'case-1', reason: 'driver bug #42', expires: PAST }] },
    pass: false,
    failures: ['regression'],
    infos: ['caveat-expired'],
  },
  {
    name: 'a caveat for another case does not apply',
    current: current(replace(base(), 'vulkan', 'case-1', result({ backend: 'vulkan', caseId: 'case-1', status: 'fail' }))),
    policy: { caveats: [{ backend: 'vulkan', case: 'case-2', reason: 'other', expires: FUTURE }] },
    pass: false,
    failures: ['regression'],
    infos: ['caveat-unused'],
  },
  {
    name: 'coverage: a baseline backend is missing',
    current: current(base().filter((r) => r.backend !== 'vulkan'), [backendRun('cpu')]),
    pass: false,
    failures: ['backend-missing'],
    mentions: /^vulkan: in the baseline but missing from the current run \(11 baseline cases not run\)$/,
  },
  {
    name: 'coverage: a baseline case is missing',
    current: current(replace(base(), 'cpu', 'case-9', undefined)),
    pass: false,
    failures: ['case-missing'],
    mentions: /^cpu\/smoke\/case-9: in the baseline \(pass\) but missing from the current run$/,
  },
  {
    name: 'a previously passing case now skipped counts as present and is reported',
    current: current(replace(base(), 'cpu', 'case-2', result({ caseId: 'case-2', status: 'skip', message: 'feature not supported' }))),
    pass: true,
    failures: [],
    infos: ['newly-skipped'],
    mentions: /^cpu\/smoke\/case-2: passed in the baseline, skipped now \(exact: feature not supported\)$/,
  },
  {
    name: 'newly skipped fails with failOnNewSkips',
    current: current(replace(base(), 'cpu', 'case-2', result({ caseId: 'case-2', status: 'skip' }))),
    policy: { failOnNewSkips: true },
    pass: false,
    failures: ['newly-skipped'],
  },
  {
    name: 'latency regression detected with enough samples',
    current: current([...passingCases(10, SLOW, 'cpu'), ...passingCases(10, FAST, 'vulkan'), result({ backend: 'vulkan', caseId: 'known-bad', status: 'fail' })]),
    pass: false,
    failures: ['latency-regression'],
    // The same 10 cases on both sides: the paired test judges each case's slowdown.
    mentions: /^cpu: end-to-end latency 2\.00x the baseline on the median case \(limit \+25\.0 %\); one-sided Wilcoxon signed-rank over 10 paired cases p=\S+ < α=0\.01$/,
  },
  {
    name: 'latency regression ignored with too few samples',
    current: current([...passingCases(10, SLOW, 'cpu'), ...passingCases(10, FAST, 'vulkan'), result({ backend: 'vulkan', caseId: 'known-bad', status: 'fail' })]),
    policy: { minSamples: 11 },
    pass: true,
    failures: [],
    infos: ['latency-not-enough-samples'],
    mentions: /^cpu: end-to-end latency not compared: not enough samples \(10 now, 10 in the baseline; policy minSamples 11 on each side\)$/,
  },
  {
    name: 'a significant slowdown below the p90 limit passes',
    current: current([...passingCases(10, FAST.map((ms) => ms * 1.1), 'cpu'), ...passingCases(10, FAST, 'vulkan'), result({ backend: 'vulkan', caseId: 'known-bad', status: 'fail' })]),
    pass: true,
    failures: [],
  },
  {
    name: 'one slow outlier moves the p90 but is no significant shift',
    current: current([...passingCases(10, [...FAST.slice(0, 9), 5000], 'cpu'), ...passingCases(10, FAST, 'vulkan'), result({ backend: 'vulkan', caseId: 'known-bad', status: 'fail' })]),
    pass: true,
    failures: [],
  },
];

describe('evaluateGate: one row per kind of reason', () => {
  it.each(rows)('$name', (row) => {
    const decision = evaluateGate(row.current, BASELINE, row.policy ?? {}, NOW);
    const kinds = (severity: 'failure' | 'info') => [...new Set(decision.reasons.filter((r) => r.severity === severity).map((r) => r.kind))].sort();
    expect(decision.pass, JSON.stringify(decision.reasons, null, 1)).toBe(row.pass);
    expect(kinds('failure')).toEqual([...row.failures].sort());
    for (const info of row.infos ?? []) expect(kinds('info')).toContain(info);
    if (row.mentions) expect(decision.reasons.map((r) => r.message)).toContainEqual(expect.stringMatching(row.mentions));
    for (const r of decision.reasons) expect(r.message).not.toMatch(/\n/);
  });

  it('names backend, suite and case on every case-level reason', () => {
    const decision = evaluateGate(current(replace(base(), 'cpu', 'case-3', result({ caseId: 'case-3', status: 'fail' }))), BASELINE, {}, NOW);
    const regression = decision.reasons.find((r) => r.kind === 'regression')!;
    expect(regression).toMatchObject({ backend: 'cpu', suite: 'smoke', caseId: 'case-3', severity: 'failure' });
  });

  it('lists failures before information', () => {
    const decision = evaluateGate(
      current(replace(replace(base(), 'cpu', 'case-2', result({ caseId: 'case-2', status: 'skip' })), 'cpu', 'case-3', result({ caseId: 'case-3', status: 'fail' }))),
      BASELINE,
      {},
      NOW,
    );
    const severities = decision.reasons.map((r) => r.severity);
    expect(severities).toEqual([...severities].sort((a, b) => (a === b ? 0 : a === 'failure' ? -1 : 1)));
    expect(severities[0]).toBe('failure');
  });

  it('compares TTFT as well as end-to-end latency, only over samples that have one', () => {
    const ttftBase = summary(passingCases(10, FAST, 'cpu', FAST.map((ms) => ms / 10)));
    const ttftSlow = summary(passingCases(10, FAST, 'cpu', SLOW.map((ms) => ms / 10)));
    const decision = evaluateGate(ttftSlow, ttftBase, {}, NOW);
    expect(decision.pass).toBe(false);
    expect(decision.reasons.map((r) => r.kind)).toEqual(['latency-regression']);
    expect(decision.reasons[0]!.message).toMatch(/^cpu: TTFT 2\.00x the baseline on the median case/);
    expect(decision.latency.map((c) => [c.metric, c.outcome])).toEqual([
      ['e2e', 'ok'],
      ['ttft', 'regressed'],
    ]);
  });

  it('compares latency over the cases both runs share, so an added slow case is not a slowdown', () => {
    const grown = current([...base(), ...Array.from({ length: 10 }, (_, i) => result({ caseId: `slow-${i}`, status: 'pass', endMs: 5000 }))]);
    const decision: GateDecision = evaluateGate(grown, BASELINE, {}, NOW);
    expect(decision.pass).toBe(true);
    expect(decision.latency.find((c) => c.backend === 'cpu' && c.metric === 'e2e')).toMatchObject({ outcome: 'ok', currentCount: 10, baselineCount: 10 });
  });

  it('treats the expiry instant as expired', () => {
    const failing = current(replace(base(), 'vulkan', 'case-1', result({ backend: 'vulkan', caseId: 'case-1', status: 'fail' })));
    const caveat = { backend: 'vulkan', case: 'case-1', reason: 'r', expires: '2026-06-01T12:00:00Z' };
    expect(evaluateGate(failing, BASELINE, { caveats: [caveat] }, NOW).pass).toBe(false);
    expect(evaluateGate(failing, BASELINE, { caveats: [caveat] }, new Date(NOW.getTime() - 1)).pass).toBe(true);
  });

  it('refuses summaries of different schema versions', () => {
    const other = { ...BASELINE, schemaVersion: 2 } as unknown as RunSummary;
    expect(() => evaluateGate(current(base()), other, {}, NOW)).toThrow(expect.objectContaining({ code: 'RECORD_INVALID' }));
  });
});

describe('validateGatePolicy', () => {
  it('accepts an empty file and a full policy', () => {
    expect(validateGatePolicy(null, 'p.yaml')).toEqual({});
    const raw = { alpha: 0.05, p90Increase: 0.5, minSamples: 12, failOnNewSkips: true, caveats: [{ backend: 'cpu', suite: 's', case: 'c', reason: 'why', expires: '2027-01-01' }] };
    expect(validateGatePolicy(raw, 'p.json')).toEqual(raw);
  });

  it('takes an unquoted YAML date, or a parsed Date, as the date it means', () => {
    const policy = validateGatePolicy(parseYaml('caveats:\n  - { backend: cpu, reason: r, expires: 2027-01-31 }\n'), 'p.yaml');
    expect(policy.caveats![0]!.expires).toBe('2027-01-31');
    const fromDate = validateGatePolicy({ caveats: [{ backend: 'cpu', reason: 'r', expires: new Date('2027-01-31T00:00:00Z') }] }, 'p.yaml');
    expect(fromDate.caveats![0]!.expires).toBe('2027-01-31T00:00:00.000Z');
  });

  it.each([
    [{ alpha: 0 }, /alpha 0 must be a number between 0 and 1/],
    [{ alpha: '0.01' }, /alpha "0.01"/],
    [{ p90Increase: -1 }, /p90Increase -1 must be a fraction ≥ 0/],
    [{ minSamples: 1 }, /minSamples 1 must be an integer ≥ 2/],
    [{ minSamples: 8.5 }, /minSamples 8.5/],
    [{ failOnNewSkips: 'yes' }, /failOnNewSkips "yes"/],
    [{ alfa: 0.01 }, /unknown field "alfa"/],
    [{ caveats: {} }, /caveats must be a list/],
    [{ caveats: [{ reason: 'r', expires: '2027-01-01' }] }, /caveats\[0\]\.backend must name a backend/],
    [{ caveats: [{ backend: 'cpu', expires: '2027-01-01' }] }, /caveats\[0\]\.reason/],
    [{ caveats: [{ backend: 'cpu', reason: 'r', expires: 'soon' }] }, /caveats\[0\]\.expires "soon" must be an ISO date/],
    [{ caveats: [{ backend: 'cpu', reason: 'r', expires: '2027-01-01', cases: 'x' }] }, /caveats\[0\]: unknown field "cases"/],
    [[1], /a gate policy is an object/],
  ])('rejects %j', (raw, message) => {
    let caught: unknown;
    try {
      validateGatePolicy(raw, 'policy.yaml');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConformError);
    expect((caught as ConformError).code).toBe('CONFIG_INVALID');
    expect((caught as ConformError).message).toMatch(/^policy\.yaml: /);
    expect((caught as ConformError).message).toMatch(message);
  });
});

describe('wilcoxonSignedRank', () => {
  it('finds a uniform 2x slowdown over cases of very different sizes, which pooling hides', async () => {
    const { wilcoxonSignedRank, mannWhitneyU } = await import('../../src/core/gate.ts');
    const before = [4, 9, 30, 80, 150, 400, 900, 1500, 3000, 5000, 8000, 10000];
    const after = before.map((x) => x * 2);
    expect(wilcoxonSignedRank(after, before).p).toBeLessThan(0.01);
    expect(mannWhitneyU(after, before).p).toBeGreaterThan(0.05);
  });

  it('sees no shift in noise around 1x, and none when only one case moved', async () => {
    const { wilcoxonSignedRank } = await import('../../src/core/gate.ts');
    const before = [10, 20, 30, 40, 50, 60, 70, 80];
    expect(wilcoxonSignedRank(before.map((x, i) => x * (i % 2 ? 1.05 : 0.95)), before).p).toBeGreaterThan(0.2);
    expect(wilcoxonSignedRank([...before.slice(0, 7), 8000], before).p).toBeGreaterThan(0.2);
  });
});
