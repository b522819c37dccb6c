import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConformError } from '../../src/core/errors.ts';
import { canonicalJson } from '../../src/core/canonical-json.ts';
import { mergeSummaries, validateRunSummary } from '../../src/core/merge.ts';
import { countMatrix, totalCounts } from '../../src/core/outcome.ts';
import type { CaseResult, RunSummary, Status } from '../../src/core/types.ts';
import { backendRun, result, summary } from './run-summary-fixtures.ts';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConformError);
    return (error as ConformError).code;
  }
  return undefined;
};

const byId = (results: CaseResult[]) => [...results].sort((a, b) => (a.id < b.id ? -1 : 1));
const iso = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms).toISOString();

// A whole run: backends × suites × cases with random statuses and latencies.
const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,6}$/);
const STATUS = fc.constantFrom<Status>('pass', 'fail', 'error', 'skip');
const wholeArb: fc.Arbitrary<RunSummary> = fc
  .record({
    backends: fc.uniqueArray(name, { minLength: 1, maxLength: 3 }),
    suites: fc.uniqueArray(name, { minLength: 1, maxLength: 3 }),
    cases: fc.uniqueArray(name, { minLength: 1, maxLength: 6 }),
    statuses: fc.array(STATUS, { minLength: 60, maxLength: 60 }),
    latencies: fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 60, maxLength: 60 }),
  })
  .map(({ backends, suites, cases, statuses, latencies }) => {
    const results: CaseResult[] = [];
    let i = 0;
    for (const backend of backends)
      for (const suite of suites)
        for (const caseId of cases) {
          results.push(result({ backend, suite, caseId, status: statuses[i % 60]!, endMs: latencies[i % 60]! }));
          i++;
        }
    return summary(results, { runId: '20260101T000000Z-whole0', startedAt: iso(0), finishedAt: iso(600_000), backends: backends.map((b) => backendRun(b)) });
  });

/** Splits a run by result id hash into n shards, each with its own id and times inside the whole's, listing only backends it ran. */
function shardsOf(whole: RunSummary, n: number): RunSummary[] {
  return Array.from({ length: n }, (_, i) => {
    const results = whole.results.filter((r) => Number.parseInt(r.id.slice(0, 8), 16) % n === i);
    const names = new Set(results.map((r) => r.backend));
    return summary(results, {
      runId: `20260101T00000${i}Z-shard${i}`,
      startedAt: iso(i * 1000),
      finishedAt: iso(600_000 - i * 1000),
      backends: whole.backends.filter((b) => names.has(b.name)),
    });
  });
}

describe('mergeSummaries: properties', () => {
  it('merging the shards of a run gives the whole run back (up to order, run id and times of empty shards)', () => {
    fc.assert(
      fc.property(wholeArb, fc.integer({ min: 1, max: 6 }), (whole, n) => {
        const shards = shardsOf(whole, n).filter((s) => s.results.length > 0);
        const merged = mergeSummaries(shards);
        expect(byId(merged.results)).toEqual(byId(whole.results));
        expect(merged.matrix).toEqual(countMatrix(whole.results));
        expect(merged.totals).toEqual(whole.totals);
        expect(merged.backends).toEqual([...whole.backends].sort((a, b) => (a.name < b.name ? -1 : 1)));
        expect(new Set(merged.suites)).toEqual(new Set(whole.suites));
        expect(merged.startedAt).toBe(shards.map((s) => s.startedAt).sort()[0]);
        expect(merged.finishedAt).toBe(shards.map((s) => s.finishedAt).sort().at(-1));
        expect(merged.schemaVersion).toBe(1);
        expect(merged.runId).toMatch(/^merged-\d{8}T\d{6}Z-[0-9a-f]{6}$/);
      }),
      { numRuns: 150 },
    );
  });

  it('is independent of the order of its inputs, run id included', () => {
    fc.assert(
      fc.property(
        wholeArb.chain((whole) => fc.tuple(fc.constant(shardsOf(whole, 4)), fc.shuffledSubarray([0, 1, 2, 3], { minLength: 4, maxLength: 4 }))),
        ([shards, order]) => {
          const shuffled = order.map((i) => shards[i]!);
          expect(canonicalJson(mergeSummaries(shuffled))).toBe(canonicalJson(mergeSummaries(shards)));
          expect(mergeSummaries(shuffled)).toEqual(mergeSummaries(shards));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('accepts an identical duplicate: merging a run with itself is merging it once', () => {
    fc.assert(
      fc.property(wholeArb, (whole) => {
        const copy = structuredClone(whole);
        expect(mergeSummaries([whole, copy])).toEqual(mergeSummaries([whole]));
      }),
      { numRuns: 50 },
    );
  });

  it('is associative on results and counts: merge(merge(a, b), c) = merge(a, b, c) but for the run id', () => {
    fc.assert(
      fc.property(wholeArb, (whole) => {
        const [a, b, c] = shardsOf(whole, 3);
        const flat = mergeSummaries([a!, b!, c!]);
        const nested = mergeSummaries([mergeSummaries([a!, b!]), c!]);
        expect(nested.results).toEqual(flat.results);
        expect(nested.totals).toEqual(flat.totals);
        expect(nested.backends).toEqual(flat.backends);
      }),
      { numRuns: 50 },
    );
  });

  it('refuses the same result id with different content, naming it and both runs', () => {
    fc.assert(
      fc.property(wholeArb, fc.nat(), (whole, pick) => {
        const victim = whole.results[pick % whole.results.length]!;
        const changed = structuredClone(whole);
        changed.runId = '20260101T000001Z-other0';
        const target = changed.results.find((r) => r.id === victim.id)!;
        target.verdicts[0]!.message = `${target.verdicts[0]!.message} (again)`;
        let caught: unknown;
        try {
          mergeSummaries([whole, changed]);
        } catch (error) {
          caught = error;
        }
        expect(caught).toBeInstanceOf(ConformError);
        expect((caught as ConformError).code).toBe('RECORD_INVALID');
        expect((caught as ConformError).message).toContain(victim.id);
        expect((caught as ConformError).message).toContain(`${victim.backend}/${victim.suite}/${victim.caseId}`);
        expect((caught as ConformError).message).toContain('20260101T000001Z-other0');
      }),
      { numRuns: 50 },
    );
  });
});

describe('mergeSummaries: cases', () => {
  const a = summary([result({ caseId: 'one', status: 'pass' })], { runId: 'run-a', startedAt: iso(5000), finishedAt: iso(9000) });
  const b = summary([result({ backend: 'vulkan', caseId: 'one', status: 'fail' })], { runId: 'run-b', startedAt: iso(1000), finishedAt: iso(7000) });

  it('takes the earliest start and the latest finish, recounts matrix and totals', () => {
    const merged = mergeSummaries([a, b]);
    expect(merged.startedAt).toBe(iso(1000));
    expect(merged.finishedAt).toBe(iso(9000));
    expect(merged.totals).toEqual(totalCounts([...a.results, ...b.results]));
    expect(merged.matrix).toEqual({ cpu: { smoke: { pass: 1, fail: 0, error: 0, skip: 0 } }, vulkan: { smoke: { pass: 0, fail: 1, error: 0, skip: 0 } } });
    expect(merged.backends.map((x) => x.name)).toEqual(['cpu', 'vulkan']);
    expect(merged.runId).toBe(mergeSummaries([b, a]).runId);
    expect(merged.runId).toMatch(/^merged-20260101T000001Z-[0-9a-f]{6}$/);
    expect(merged.runId).not.toBe(mergeSummaries([a]).runId);
  });

  it('refuses inputs of another schema version', () => {
    const future = { ...b, schemaVersion: 2 } as unknown as RunSummary;
    expect(codeOf(() => mergeSummaries([a, future]))).toBe('RECORD_INVALID');
  });

  it('refuses nothing to merge as a usage error', () => {
    expect(codeOf(() => mergeSummaries([]))).toBe('USAGE');
  });

  it('joins one backend seen in several shards: worst state, every reason, one identity', () => {
    const r1 = result({ caseId: 'one', status: 'pass' });
    const r2 = result({ caseId: 'two', status: 'error' });
    const s1 = summary([r1], { runId: 's1', startedAt: iso(0), backends: [backendRun('cpu', { coldStart: { spawnToHealthyMs: 10 }, identity: { engine: 'llama.cpp' } })] });
    const s2 = summary([r2], { runId: 's2', startedAt: iso(1), backends: [backendRun('cpu', { state: 'crashed', reason: 'died', coldStart: { spawnToHealthyMs: 20 }, identity: { engine: 'llama.cpp', gpu: 'cpu' } })] });
    const merged = mergeSummaries([s2, s1]);
    expect(merged.backends).toHaveLength(1);
    expect(merged.backends[0]).toMatchObject({ name: 'cpu', class: 'cpu', state: 'crashed', reason: 'died', identity: { engine: 'llama.cpp', gpu: 'cpu' }, coldStart: { spawnToHealthyMs: 10 } });
    expect(merged.backends[0]!.identity).toEqual({ engine: 'llama.cpp', gpu: 'cpu' });
  });

  it('refuses one backend name with two classes or two builds', () => {
    const s1 = summary([result({ caseId: 'one', status: 'pass' })], { runId: 's1' });
    const otherClass = summary([result({ caseId: 'two', status: 'pass' })], { runId: 's2', backends: [backendRun('cpu', { class: 'gpu' })] });
    const otherBuild = summary([result({ caseId: 'two', status: 'pass' })], { runId: 's3', backends: [backendRun('cpu', { identity: { engine: 'llama.cpp', engineVersion: 'b2' } })] });
    expect(codeOf(() => mergeSummaries([s1, otherClass]))).toBe('RECORD_INVALID');
    expect(() => mergeSummaries([s1, otherBuild])).toThrow(/backend "cpu" reports engineVersion "b1" in run s1 and "b2" in run s3/);
  });

  it('does not change its inputs', () => {
    const before = structuredClone([a, b]);
    mergeSummaries([a, b]);
    expect([a, b]).toEqual(before);
  });
});

describe('validateRunSummary', () => {
  const good = summary([result({ caseId: 'one', status: 'pass' })]);

  it('accepts a summary and keeps extra members such as a baseline approval', () => {
    const withApproval = { ...structuredClone(good), approval: { by: 'a', at: iso(0), reason: 'r', runId: good.runId } };
    expect(validateRunSummary(withApproval, 'x.json')).toBe(withApproval);
  });

  it.each<[string, (s: Record<string, unknown>) => unknown]>([
    ['not an object', () => [1]],
    ['schemaVersion', (s) => ({ ...s, schemaVersion: 2 })],
    ['runId', (s) => ({ ...s, runId: undefined })],
    ['startedAt', (s) => ({ ...s, startedAt: 'yesterday' })],
    ['backends', (s) => ({ ...s, backends: {} })],
    ['backends[0]', (s) => ({ ...s, backends: [{ name: 'cpu' }] })],
    ['results', (s) => ({ ...s, results: null })],
    ['results[0].status', (s) => ({ ...s, results: [{ ...(s.results as CaseResult[])[0], status: 'passed' }] })],
    ['results[0] needs', (s) => ({ ...s, results: [{ id: 'x' }] })],
  ])('rejects a bad %s with RECORD_INVALID naming the file', (what, mutate) => {
    let caught: unknown;
    try {
      validateRunSummary(mutate(structuredClone(good) as unknown as Record<string, unknown>), 'reports/x/summary.json');
    } catch (error) {
      caught = error;
    }
    expect((caught as ConformError).code).toBe('RECORD_INVALID');
    expect((caught as ConformError).message).toMatch(/^reports\/x\/summary\.json: /);
    expect((caught as ConformError).message).toContain(what === 'not an object' ? 'not a JSON object' : what);
  });
});

describe('canonicalJson', () => {
  it('ignores key order and undefined members', () => {
    expect(canonicalJson({ b: 1, a: [1, { d: undefined, c: 'x' }] })).toBe(canonicalJson({ a: [1, { c: 'x' }], b: 1 }));
    expect(canonicalJson({ a: 1 })).not.toBe(canonicalJson({ a: 2 }));
  });
});
