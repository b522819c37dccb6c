// Detection power, proven on real samples: inject each fault into the answers a backend really gave, judge
// them exactly as `conform run` would, and see which verdicts turn. Pure: no I/O, no backends.
import { firstDivergence } from '../assertions/tokens.ts';
import { distributionStats } from '../assertions/distribution.ts';
import { NOTABLE_SLOWDOWN } from '../core/machine-load.ts';
import { prefixDrift } from '../assertions/prefix-drift.ts';
import { caseStatus } from '../core/outcome.ts';
import { maxOf } from '../core/statistics.ts';
import { DEFAULT_GATE_POLICY, evaluateGate, quantile } from '../core/gate.ts';
import type { BackendIdentity, Case, CaseResult, GoldenFile, RunSummary, Sample, Status, Suite, Tolerance, Verdict } from '../core/types.ts';
import { judgeSample } from '../run/judge.ts';
import { FAULTS, type FaultDefinition } from './catalog.ts';

export interface SelftestBackend {
  name: string;
  class: string;
  tolerance?: Partial<Tolerance>;
  /** What the backend said about itself in the clean run: the model and prompt checks read it. */
  identity?: BackendIdentity;
}

export interface SelftestInput {
  /** The clean run: real samples of every case on every backend. */
  summary: RunSummary;
  suites: Suite[];
  goldens: ReadonlyMap<string, GoldenFile | undefined>;
  /** The backend golden was recorded on. */
  reference: string;
  /** Tolerance overrides from config; class comes from the run when a backend is not listed. */
  backends?: SelftestBackend[];
  faults?: ReadonlyMap<string, FaultDefinition>;
  /** More clean runs, pooled into the latency baseline of gate-caught faults. */
  extraCleanRuns?: RunSummary[];
}

export interface Flip {
  backend: string;
  caseId: string;
  check: string;
  from: Status | 'absent';
  to: Status;
  message: string;
}

/** masked: every perturbed case already failed the expected check in the clean run, so no flip could show (see the clean flags). */
export type CellStatus = 'caught' | 'misattributed' | 'missed' | 'masked' | 'passed' | 'flagged' | 'not-applicable';

export interface MatrixCell {
  fault: string;
  kind: FaultDefinition['kind'];
  suite: string;
  status: CellStatus;
  /** Cases whose sample the fault changed. */
  perturbed: string[];
  /** Perturbed cases no verdict flipped on because an expected check already failed in the clean run. */
  masked: string[];
  /** Perturbed, unmasked cases that no verdict caught (must-catch) or that were flagged (must-pass). */
  uncaught: string[];
  flips: Flip[];
  note?: string;
}

export interface CleanFlag {
  backend: string;
  suite: string;
  caseId: string;
  status: Status;
  checks: string[];
  message: string;
  /** How slow the machine was while the case ran, where it was measurably slow: a flag to read with care. */
  slowdown?: number;
}

export interface SelftestResult {
  matrix: MatrixCell[];
  clean: CleanFlag[];
  /** Must-catch faults missed or misattributed, must-pass faults flagged. */
  problems: string[];
}

const bad = (s: Status) => s === 'fail' || s === 'error';

interface Row {
  testCase: Case;
  result: CaseResult;
}

function backendsOf(input: SelftestInput): Map<string, SelftestBackend> {
  const map = new Map<string, SelftestBackend>();
  for (const b of input.summary.backends) map.set(b.name, { name: b.name, class: b.class, identity: b.identity });
  for (const b of input.backends ?? []) map.set(b.name, { ...map.get(b.name), ...b });
  return map;
}

/** Each (backend, suite)'s results in the suite's case order, which is the order `conform run` judged them in. */
function rowsBySuite(summary: RunSummary, suites: Suite[]): Map<string, Map<string, Row[]>> {
  const out = new Map<string, Map<string, Row[]>>();
  for (const suite of suites) {
    const order = new Map(suite.cases.map((c, i) => [c.id, i]));
    for (const result of summary.results) {
      if (result.suite !== suite.name) continue;
      const testCase = suite.cases.find((c) => c.id === result.caseId);
      if (!testCase) continue;
      const bySuite = out.get(result.backend) ?? out.set(result.backend, new Map()).get(result.backend)!;
      (bySuite.get(suite.name) ?? bySuite.set(suite.name, []).get(suite.name)!).push({ testCase, result });
    }
    for (const bySuite of out.values()) bySuite.get(suite.name)?.sort((a, b) => order.get(a.testCase.id)! - order.get(b.testCase.id)!);
  }
  return out;
}

/** Verdicts of a suite's samples on one backend, siblings growing in case order as in execute-run. */
function judgeRows(rows: Row[], samples: Array<Sample | undefined>, golden: GoldenFile | undefined, backend: SelftestBackend): Verdict[][] {
  const siblings = new Map<string, Sample>();
  return rows.map((row, i) => {
    const sample = samples[i];
    if (!sample) return row.result.verdicts;
    const verdicts = judgeSample({ testCase: row.testCase, sample, golden, backend, siblings, identity: backend.identity });
    siblings.set(row.testCase.id, sample);
    return verdicts;
  });
}

function flipsOf(backend: string, caseId: string, before: Verdict[], after: Verdict[]): Flip[] {
  const flips: Flip[] = [];
  for (const v of after) {
    if (!bad(v.status)) continue;
    const old = before.find((o) => o.check === v.check);
    if (!old || !bad(old.status)) flips.push({ backend, caseId, check: v.check, from: old?.status ?? 'absent', to: v.status, message: v.message });
  }
  return flips;
}

function targets(fault: FaultDefinition, backends: Iterable<string>, reference: string): string[] {
  return [...backends].filter((b) => (fault.backend === 'reference' ? b === reference : b !== reference));
}

interface Faulted {
  rows: Row[];
  samples: Array<Sample | undefined>;
  perturbed: boolean[];
}

function applyFault(fault: FaultDefinition, rows: Row[], golden: GoldenFile | undefined): Faulted {
  const samples: Array<Sample | undefined> = [];
  const perturbed: boolean[] = [];
  let previous: Sample | undefined;
  for (const { testCase, result } of rows) {
    const clean = result.sample;
    let sample = clean;
    if (clean && clean.kind === 'ok' && fault.applies(testCase))
      sample = fault.apply(structuredClone(clean), testCase, { reference: golden?.samples[testCase.id], previous });
    perturbed.push(clean !== undefined && sample !== undefined && JSON.stringify(sample) !== JSON.stringify(clean));
    samples.push(sample);
    if (clean) previous = clean;
  }
  return { rows, samples, perturbed };
}

function cellStatus(fault: FaultDefinition, perturbed: string[], masked: string[], flips: Flip[]): { status: CellStatus; uncaught: string[] } {
  if (perturbed.length === 0) return { status: 'not-applicable', uncaught: [] };
  if (fault.kind === 'must-pass') {
    const flagged = [...new Set(flips.map((f) => f.caseId))];
    return { status: flagged.length ? 'flagged' : 'passed', uncaught: flagged };
  }
  const caught = perturbed.filter((c) => flips.some((f) => f.caseId === c));
  const uncaught = perturbed.filter((c) => !caught.includes(c) && !masked.includes(c));
  if (uncaught.length > 0) return { status: 'missed', uncaught };
  if (caught.length === 0) return { status: 'masked', uncaught: [] };
  const wrong = caught.filter((c) => !flips.some((f) => f.caseId === c && fault.expect.includes(f.check)));
  return { status: wrong.length ? 'misattributed' : 'caught', uncaught: wrong };
}

/** Gate-caught faults: the faulted run (pooled with extra clean runs) against the clean one, through evaluateGate. */
function gateCell(fault: FaultDefinition, input: SelftestInput, backends: Map<string, SelftestBackend>): MatrixCell {
  const runs = [input.summary, ...(input.extraCleanRuns ?? [])];
  const targetNames = new Set(targets(fault, backends.keys(), input.reference));
  const perturbed: string[] = [];
  const faultedResults = runs.flatMap((run) =>
    run.results.map((r) => {
      const testCase = input.suites.find((s) => s.name === r.suite)?.cases.find((c) => c.id === r.caseId);
      if (!targetNames.has(r.backend) || !r.sample || r.sample.kind !== 'ok' || !testCase || !fault.applies(testCase)) return r;
      const sample = fault.apply(structuredClone(r.sample), testCase, {});
      if (JSON.stringify(sample) === JSON.stringify(r.sample)) return r;
      perturbed.push(`${r.backend}/${r.suite}/${r.caseId}`);
      return { ...r, sample };
    }),
  );
  const baseline: RunSummary = { ...input.summary, results: runs.flatMap((r) => r.results) };
  const current: RunSummary = { ...input.summary, results: faultedResults };
  const decision = evaluateGate(current, baseline, DEFAULT_GATE_POLICY, new Date(0));
  const hits = decision.reasons.filter((r) => r.kind === 'latency-regression' && targetNames.has(r.backend ?? '') && /TTFT/.test(r.message));
  const ttft = decision.latency.filter((c) => c.metric === 'ttft' && targetNames.has(c.backend));
  const note = ttft.map((c) => `${c.backend}: ${c.outcome}${c.p !== undefined ? ` p=${c.p.toPrecision(3)} p90 ${c.baselineP90?.toFixed(1)}→${c.currentP90?.toFixed(1)} ms` : ''} (${c.currentCount} vs ${c.baselineCount} samples)`).join('; ');
  const flips: Flip[] = hits.map((h) => ({ backend: h.backend ?? '', caseId: '*', check: 'gate:latency-regression', from: 'pass', to: 'fail', message: h.message }));
  const status: CellStatus = perturbed.length === 0 ? 'not-applicable' : hits.length ? 'caught' : 'missed';
  return { fault: fault.name, kind: fault.kind, suite: '(gate: all suites)', status, perturbed, masked: [], uncaught: hits.length ? [] : perturbed, flips, note: `gate latency test, clean run as baseline; ${note}` };
}

export function runSelftest(input: SelftestInput): SelftestResult {
  const faults = input.faults ?? FAULTS;
  const backends = backendsOf(input);
  const rows = rowsBySuite(input.summary, input.suites);
  const backendOf = (name: string) => backends.get(name) ?? { name, class: 'default' };

  // The clean verdicts, re-judged against today's golden and checks.
  const clean = new Map<string, Map<string, Verdict[][]>>();
  const cleanFlags: CleanFlag[] = [];
  for (const [backend, bySuite] of rows) {
    const map = new Map<string, Verdict[][]>();
    clean.set(backend, map);
    for (const [suite, suiteRows] of bySuite) {
      const verdicts = judgeRows(suiteRows, suiteRows.map((r) => r.result.sample), input.goldens.get(suite), backendOf(backend));
      map.set(suite, verdicts);
      verdicts.forEach((v, i) => {
        const status = caseStatus(v);
        if (!bad(status)) return;
        const failing = v.filter((x) => bad(x.status));
        const slowdown = suiteRows[i]!.result.sample?.machine?.slowdown;
        cleanFlags.push({ backend, suite, caseId: suiteRows[i]!.testCase.id, status, checks: failing.map((x) => x.check), message: failing[0]?.message ?? '', ...(slowdown !== undefined && slowdown >= NOTABLE_SLOWDOWN ? { slowdown } : {}) });
      });
    }
  }

  const matrix: MatrixCell[] = [];
  for (const fault of faults.values()) {
    if (fault.expect.some((e) => e.startsWith('gate:'))) {
      matrix.push(gateCell(fault, input, backends));
      continue;
    }
    for (const suite of input.suites) {
      const perturbed: string[] = [];
      const masked: string[] = [];
      const flips: Flip[] = [];
      for (const backend of targets(fault, rows.keys(), input.reference)) {
        const suiteRows = rows.get(backend)?.get(suite.name);
        if (!suiteRows) continue;
        const golden = input.goldens.get(suite.name);
        const faulted = applyFault(fault, suiteRows, golden);
        if (!faulted.perturbed.some(Boolean)) continue;
        const before = clean.get(backend)!.get(suite.name)!;
        const after = judgeRows(suiteRows, faulted.samples, golden, backendOf(backend));
        suiteRows.forEach((row, i) => {
          const id = fault.backend === 'reference' && targets(fault, rows.keys(), input.reference).length === 1 ? row.testCase.id : `${backend}:${row.testCase.id}`;
          if (faulted.perturbed[i]) {
            perturbed.push(id);
            if (fault.kind === 'must-catch' && before[i]!.some((v) => bad(v.status) && fault.expect.includes(v.check))) masked.push(id);
          }
          for (const flip of flipsOf(backend, row.testCase.id, before[i]!, after[i]!)) flips.push({ ...flip, caseId: id });
        });
      }
      const { status, uncaught } = cellStatus(fault, perturbed, masked, flips);
      if (status !== 'not-applicable') matrix.push({ fault: fault.name, kind: fault.kind, suite: suite.name, status, perturbed, masked, uncaught, flips });
    }
  }
  // A must-catch fault that touched no sample anywhere was never tested: that is a miss too.
  for (const fault of faults.values())
    if (!matrix.some((m) => m.fault === fault.name))
      matrix.push({ fault: fault.name, kind: fault.kind, suite: '(none)', status: fault.kind === 'must-catch' ? 'missed' : 'not-applicable', perturbed: [], masked: [], uncaught: [], flips: [], note: 'the fault changed no sample of this run' });

  const problems = [
    ...matrix.filter((m) => m.status === 'missed' || m.status === 'misattributed' || m.status === 'flagged').map((m) => `${m.fault} ${m.status} in ${m.suite}${m.uncaught.length ? ` (${m.uncaught.join(', ')})` : ''}${m.note ? `: ${m.note}` : ''}`),
    ...cleanFlags.map((f) => `clean run flagged ${f.backend}/${f.suite}/${f.caseId}${f.slowdown !== undefined ? ` (machine ${f.slowdown.toFixed(1)}× slow)` : ''}: ${f.checks.join(', ')}: ${f.message}`),
  ];
  return { matrix, clean: cleanFlags, problems };
}

export interface Calibration {
  samples: number;
  /** First divergence index from golden per case (null: none), over every compared sample. */
  divergences: Array<{ run: number; backend: string; suite: string; caseId: string; index: number | null; tokens: number; meanKld: number; maxAbsDeltaLogprob: number }>;
  meanKld: number;
  /** Over the positions greedy-divergence compares: inside both top-k lists, not grammar-forced (prefix-drift.ts). */
  absDeltaLogprob: { n: number; p50: number; p90: number; p99: number; max: number; excluded: { forced: number; outsideTopK: number; noLogprob: number } };
  /** Samples left out because they read another prompt than golden: not drift. */
  promptDiffers: string[];
}

/** The k of "inside the top-k" for calibration: the default class's. */
const CALIBRATION_TOP_K = 5;

/** cpu-vs-other agreement measured on clean runs: where greedy paths part, KL divergence and |Δlogprob| over shared prefixes. */
export function calibrate(runs: RunSummary[], goldens: ReadonlyMap<string, GoldenFile | undefined>, reference: string): Calibration {
  const divergences: Calibration['divergences'] = [];
  const deltas: number[] = [];
  const klds: number[] = [];
  const excluded = { forced: 0, outsideTopK: 0, noLogprob: 0 };
  const promptDiffers: string[] = [];
  runs.forEach((run, r) => {
    for (const result of run.results) {
      const ref = goldens.get(result.suite)?.samples[result.caseId];
      const s = result.sample;
      if (result.backend === reference || !ref || !s || s.kind !== 'ok' || ref.tokens.length === 0 || s.tokens.length === 0) continue;
      if (ref.usage && s.usage && ref.usage.promptTokens !== s.usage.promptTokens) {
        promptDiffers.push(`${result.backend}/${result.suite}/${result.caseId} (${s.usage.promptTokens} vs golden ${ref.usage.promptTokens})`);
        continue;
      }
      const d = firstDivergence(ref.tokens, s.tokens);
      const end = d === -1 ? Math.min(ref.tokens.length, s.tokens.length) : d;
      const drift = prefixDrift(ref.tokens, s.tokens, end, CALIBRATION_TOP_K);
      deltas.push(...drift.deltas);
      for (const k of ['forced', 'outsideTopK', 'noLogprob'] as const) excluded[k] += drift.excluded[k];
      const stats = distributionStats(ref.tokens, s.tokens);
      if (stats.n > 0) klds.push(stats.meanKld);
      divergences.push({ run: r, backend: result.backend, suite: result.suite, caseId: result.caseId, index: d === -1 ? null : d, tokens: s.tokens.length, meanKld: stats.meanKld, maxAbsDeltaLogprob: drift.max });
    }
  });
  const q = (p: number) => (deltas.length ? quantile(deltas, p) : 0);
  return {
    samples: divergences.length,
    divergences,
    meanKld: klds.length ? klds.reduce((a, b) => a + b, 0) / klds.length : 0,
    absDeltaLogprob: { n: deltas.length, p50: q(0.5), p90: q(0.9), p99: q(0.99), max: deltas.length ? maxOf(deltas) : 0, excluded },
    promptDiffers,
  };
}
