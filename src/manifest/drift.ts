// How far a backend drifts from the reference, over every case of a run that has golden tokens: where
// greedy outputs part, the logprob gap there, KLD per position and |Δlogprob| over the shared prefix.
// Pure: results and golden samples in, figures out. The comparators judge each case; this pools them.

import { distributionStats } from '../assertions/distribution.ts';
import { firstDivergence, sameToken } from '../assertions/tokens.ts';
import { maxOf, quantile } from '../core/statistics.ts';
import type { CaseResult, GoldenFile, TokenStep } from '../core/types.ts';
import type { Drift, Spread } from './types.ts';

/** count, p50, p99 and max of a list; nulls when it is empty. */
export function spreadOf(values: number[]): Spread {
  if (values.length === 0) return { count: 0, p50: null, p99: null, max: null };
  return { count: values.length, p50: quantile(values, 0.5), p99: quantile(values, 0.99), max: maxOf(values) };
}

/**
 * The logprob gap between the two chosen tokens at a divergence, as greedy-divergence measures it: on
 * each side, its own token's logprob minus the other side's token in its list; the larger of the two.
 * Null when either side does not list the other's token.
 */
export function divergenceGap(golden: TokenStep, got: TokenStep): number | null {
  const gotInGolden = golden.top.find((alt) => sameToken(alt, got));
  const goldenInGot = got.top.find((alt) => sameToken(alt, golden));
  if (!gotInGolden || !goldenInGot) return null;
  const goldenGap = (golden.logprob ?? golden.top[0]!.logprob) - gotInGolden.logprob;
  const gotGap = (got.logprob ?? got.top[0]!.logprob) - goldenInGot.logprob;
  return Math.max(goldenGap, gotGap);
}

/** |Δlogprob| of each chosen token both sides agree on, before `end`. */
function prefixDeltas(a: TokenStep[], b: TokenStep[], end: number): number[] {
  const deltas: number[] = [];
  for (let i = 0; i < end; i++) {
    const x = a[i]!.logprob;
    const y = b[i]!.logprob;
    if (x !== undefined && y !== undefined) deltas.push(Math.abs(x - y));
  }
  return deltas;
}

/**
 * Pools one backend's drift from golden over its ok samples whose golden sample has tokens. A repeated
 * or agent case compares its recorded sample, as the comparators do.
 */
export function measureDrift(backend: string, results: CaseResult[], goldens: ReadonlyMap<string, GoldenFile | undefined>): Drift {
  const divergences: Drift['divergences'] = [];
  const klds: number[] = [];
  const deltas: number[] = [];
  let compared = 0;
  let identical = 0;
  let reference = '';
  for (const r of results) {
    if (r.backend !== backend || r.sample?.kind !== 'ok' || r.sample.tokens.length === 0) continue;
    const golden = goldens.get(r.suite);
    const want = golden?.samples[r.caseId];
    if (!want || want.tokens.length === 0) continue;
    reference ||= golden!.provenance.backend;
    compared++;
    const got = r.sample.tokens;
    const index = firstDivergence(want.tokens, got);
    const shared = index === -1 ? Math.min(want.tokens.length, got.length) : index;
    if (index >= 0) divergences.push({ suite: r.suite, caseId: r.caseId, index, gap: divergenceGap(want.tokens[index]!, got[index]!) });
    else if (want.tokens.length === got.length) identical++;
    else divergences.push({ suite: r.suite, caseId: r.caseId, index: shared, gap: null });
    for (const delta of prefixDeltas(want.tokens, got, shared)) deltas.push(delta);
    // The distribution comparator's own positions, so the manifest and the verdicts cannot disagree on KLD.
    for (const position of distributionStats(want.tokens, got).positions) klds.push(position.kld);
  }
  divergences.sort((a, b) => a.index - b.index || (a.suite < b.suite ? -1 : a.suite > b.suite ? 1 : a.caseId < b.caseId ? -1 : 1));
  const gaps = divergences.map((d) => d.gap).filter((g): g is number => g !== null);
  return {
    reference,
    comparedCases: compared,
    identicalCases: identical,
    divergences,
    divergenceIndex: spreadOf(divergences.map((d) => d.index)),
    divergenceGap: spreadOf(gaps),
    kld: { ...spreadOf(klds), mean: klds.length ? klds.reduce((s, v) => s + v, 0) / klds.length : null },
    absLogprobDelta: spreadOf(deltas),
  };
}
