import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConformError } from '../../src/core/errors.ts';
import { caseResultId } from '../../src/core/ids.ts';
import { caseStatus, countMatrix, exitCodeForCounts, totalCounts } from '../../src/core/outcome.ts';
import { expandPlan, filterShard, parseShard, type PlanItem } from '../../src/core/plan.ts';
import type { BackendConfig, Case, CaseResult, Counts, Status, Suite, Verdict } from '../../src/core/types.ts';

const backend = (name: string): BackendConfig => ({ name, class: 'cpu', model: 'm', baseUrl: 'http://127.0.0.1:1/v1' });
const testCase = (id: string): Case => ({ id, endpoint: 'completion', prompt: 'x', params: {}, checks: [{ kind: 'exact' }] });
const suite = (name: string, ids: string[]): Suite => ({ name, description: 'd', file: `suites/${name}.yaml`, cases: ids.map(testCase) });

const BACKENDS = [backend('cpu'), backend('vulkan')];
const SUITES = [suite('smoke', ['chat-hello', 'chat-stream', 'completion-basic']), suite('tools', ['tool-call-named'])];

describe('expandPlan', () => {
  const plan = expandPlan(BACKENDS, SUITES);

  it('is backend × suite × case in order', () => {
    expect(plan.map((i) => `${i.backend.name}/${i.suite.name}/${i.testCase.id}`)).toEqual([
      'cpu/smoke/chat-hello',
      'cpu/smoke/chat-stream',
      'cpu/smoke/completion-basic',
      'cpu/tools/tool-call-named',
      'vulkan/smoke/chat-hello',
      'vulkan/smoke/chat-stream',
      'vulkan/smoke/completion-basic',
      'vulkan/tools/tool-call-named',
    ]);
  });

  it('gives stable ids: 16 hex digits of sha256 over NUL-separated names, the same on every call', () => {
    for (const item of plan) {
      const expected = createHash('sha256').update(`${item.backend.name}\0${item.suite.name}\0${item.testCase.id}`).digest('hex').slice(0, 16);
      expect(item.id).toBe(expected);
    }
    expect(plan[0]!.id).toBe('236182b808b68943');
    expect(plan[4]!.id).toBe('d1dc697eb0c88425');
    expect(expandPlan(BACKENDS, SUITES).map((i) => i.id)).toEqual(plan.map((i) => i.id));
  });

  it('gives unique ids', () => {
    expect(new Set(plan.map((i) => i.id)).size).toBe(plan.length);
  });

  it('keeps ids of an item independent of what else is in the plan', () => {
    const alone = expandPlan([backend('vulkan')], [suite('tools', ['tool-call-named'])]);
    expect(alone[0]!.id).toBe(plan[7]!.id);
  });

  it('separates names with NUL so ("a","bc") and ("ab","c") differ', () => {
    expect(caseResultId('a', 'bc', 'x')).not.toBe(caseResultId('ab', 'c', 'x'));
    expect(caseResultId('a', 'b', 'cx')).not.toBe(caseResultId('a', 'bc', 'x'));
  });

  it('is empty without backends or cases', () => {
    expect(expandPlan([], SUITES)).toEqual([]);
    expect(expandPlan(BACKENDS, [suite('empty', [])])).toEqual([]);
  });
});

describe('parseShard', () => {
  it.each([
    ['1/3', 1, 3],
    ['3/3', 3, 3],
    ['1/1', 1, 1],
    [' 2/5 ', 2, 5],
    ['12/20', 12, 20],
  ])('accepts %j', (text, index, total) => {
    expect(parseShard(text)).toEqual({ index, total });
  });

  it.each(['0/3', '4/3', 'x', '1/0', '0/0', '1-3', '1/3/5', '-1/3', '1.5/3', '', '/3', '1/'])('rejects %j with the documented message', (text) => {
    let caught: unknown;
    try {
      parseShard(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConformError);
    expect((caught as ConformError).code).toBe('USAGE');
    expect((caught as ConformError).message).toBe(`--shard "${text}", expected format is "current/all", 1-based, for example "3/5"`);
  });
});

// Names as suites allow them; uniqueness where the config and suite parser enforce it.
const name = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,10}$/);
const planArb: fc.Arbitrary<PlanItem[]> = fc
  .tuple(
    fc.uniqueArray(name, { minLength: 1, maxLength: 4 }),
    fc.uniqueArray(fc.tuple(name, fc.uniqueArray(name, { minLength: 0, maxLength: 12 })), { minLength: 1, maxLength: 4, selector: ([n]) => n }),
  )
  .map(([backends, suites]) => expandPlan(backends.map(backend), suites.map(([n, ids]) => suite(n, ids))));

describe('filterShard: properties', () => {
  it('the n shards partition the plan: every item in exactly one shard, order kept', () => {
    fc.assert(
      fc.property(planArb, fc.integer({ min: 1, max: 8 }), (plan, n) => {
        const shards = Array.from({ length: n }, (_, i) => filterShard(plan, parseShard(`${i + 1}/${n}`)));
        const seen = new Map<string, number>();
        for (const shard of shards) for (const item of shard) seen.set(item.id, (seen.get(item.id) ?? 0) + 1);
        expect(shards.reduce((sum, s) => sum + s.length, 0)).toBe(plan.length);
        expect(seen.size).toBe(plan.length);
        for (const item of plan) expect(seen.get(item.id)).toBe(1);
        for (const shard of shards) expect(shard).toEqual(plan.filter((item) => shard.includes(item)));
      }),
      { numRuns: 300 },
    );
  });

  it('adding a case moves no other item between shards', () => {
    fc.assert(
      fc.property(planArb, fc.integer({ min: 1, max: 8 }), name, (plan, n, extraId) => {
        fc.pre(plan.length > 0);
        const first = plan[0]!;
        fc.pre(!first.suite.cases.some((c) => c.id === extraId));
        const grown = [...plan, { ...first, id: caseResultId(first.backend.name, first.suite.name, extraId), testCase: testCase(extraId) }];
        for (let i = 1; i <= n; i++) {
          const before = filterShard(plan, { index: i, total: n }).map((x) => x.id);
          const after = filterShard(grown, { index: i, total: n }).map((x) => x.id).filter((id) => id !== grown.at(-1)!.id);
          expect(after).toEqual(before);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('one shard of one is the whole plan', () => {
    const plan = expandPlan(BACKENDS, SUITES);
    expect(filterShard(plan, parseShard('1/1'))).toEqual(plan);
  });
});

const v = (status: Status): Verdict => ({ check: 'c', status, message: status });

describe('caseStatus', () => {
  it.each<[Status[], Status]>([
    [[], 'skip'],
    [['skip'], 'skip'],
    [['skip', 'skip'], 'skip'],
    [['pass'], 'pass'],
    [['pass', 'skip'], 'pass'],
    [['fail'], 'fail'],
    [['pass', 'fail', 'skip'], 'fail'],
    [['error'], 'error'],
    [['pass', 'error'], 'error'],
    // A failure is never hidden behind an error of the same case (a missing golden beside a failed tool-call).
    [['fail', 'error'], 'fail'],
    [['skip', 'fail', 'pass', 'error'], 'fail'],
    [['skip', 'pass', 'error'], 'error'],
  ])('%j → %s', (statuses, expected) => {
    expect(caseStatus(statuses.map(v))).toBe(expected);
  });
});

describe('exitCodeForCounts', () => {
  const counts = (c: Partial<Counts>): Counts => ({ pass: 0, fail: 0, error: 0, skip: 0, ...c });
  it.each<[Partial<Counts>, 0 | 1 | 3]>([
    [{}, 0],
    [{ pass: 5 }, 0],
    [{ skip: 3 }, 0],
    [{ pass: 5, skip: 2 }, 0],
    [{ fail: 1 }, 1],
    [{ pass: 9, fail: 1 }, 1],
    [{ error: 1 }, 3],
    [{ pass: 3, error: 2, skip: 1 }, 3],
    [{ fail: 1, error: 7 }, 1],
  ])('%j → %i', (c, expected) => {
    expect(exitCodeForCounts(counts(c))).toBe(expected);
  });
});

describe('countMatrix and totalCounts', () => {
  const result = (backendName: string, suiteName: string, status: Status): CaseResult => ({ id: `${backendName}${suiteName}${status}`, backend: backendName, suite: suiteName, caseId: 'c', status, verdicts: [] });
  const results = [result('cpu', 'smoke', 'pass'), result('cpu', 'smoke', 'fail'), result('cpu', 'tools', 'skip'), result('vulkan', 'smoke', 'error'), result('vulkan', 'smoke', 'pass')];

  it('counts by backend and suite', () => {
    expect(countMatrix(results)).toEqual({
      cpu: { smoke: { pass: 1, fail: 1, error: 0, skip: 0 }, tools: { pass: 0, fail: 0, error: 0, skip: 1 } },
      vulkan: { smoke: { pass: 1, fail: 0, error: 1, skip: 0 } },
    });
  });

  it('totals every status', () => {
    expect(totalCounts(results)).toEqual({ pass: 2, fail: 1, error: 1, skip: 1 });
    expect(exitCodeForCounts(totalCounts(results))).toBe(1);
  });
});
