// Merging run records: shards of one run, or one run per backend from a CI matrix, become one
// summary that report, gate and badge read exactly like a single run. Pure: no I/O.

import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.ts';
import { ConformError } from './errors.ts';
import { createRunId } from './ids.ts';
import { buildSummary } from './summary.ts';
import { SUMMARY_SCHEMA_VERSION, type BackendIdentity, type BackendRun, type CaseResult, type RunSummary, type Status } from './types.ts';

const STATUSES: readonly Status[] = ['pass', 'fail', 'error', 'skip'];
const BACKEND_STATES: readonly BackendRun['state'][] = ['ran', 'skipped', 'unavailable', 'crashed'];

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
const isTime = (value: unknown): value is string => typeof value === 'string' && !Number.isNaN(Date.parse(value));

/**
 * Checks that parsed JSON is a run summary of this schema version, enough for merge, gate and
 * badge to rely on its shape; extra members (a baseline's `approval`) are kept.
 */
export function validateRunSummary(raw: unknown, source: string): RunSummary {
  const bad = (what: string): never => {
    throw new ConformError('RECORD_INVALID', `${source}: ${what}; expected a conform summary.json (docs/run-record.md)`);
  };
  if (!isObject(raw)) return bad('not a JSON object');
  if (raw.schemaVersion !== SUMMARY_SCHEMA_VERSION) return bad(`schemaVersion ${JSON.stringify(raw.schemaVersion)}, expected ${SUMMARY_SCHEMA_VERSION}`);
  if (typeof raw.runId !== 'string' || raw.runId === '') bad('runId is missing');
  if (!isTime(raw.startedAt) || !isTime(raw.finishedAt)) bad('startedAt or finishedAt is not a date');
  if (!Array.isArray(raw.backends)) bad('backends is not an array');
  if (!Array.isArray(raw.suites) || !(raw.suites as unknown[]).every((s) => typeof s === 'string')) bad('suites is not an array of names');
  if (!Array.isArray(raw.results)) bad('results is not an array');
  for (const [i, b] of (raw.backends as unknown[]).entries()) {
    if (!isObject(b) || typeof b.name !== 'string' || typeof b.class !== 'string' || !BACKEND_STATES.includes(b.state as BackendRun['state']) || !isObject(b.identity))
      bad(`backends[${i}] needs name, class, state (${BACKEND_STATES.join(', ')}) and identity`);
  }
  for (const [i, r] of (raw.results as unknown[]).entries()) {
    if (!isObject(r) || typeof r.id !== 'string' || typeof r.backend !== 'string' || typeof r.suite !== 'string' || typeof r.caseId !== 'string')
      bad(`results[${i}] needs id, backend, suite and caseId`);
    const result = r as Record<string, unknown>;
    if (!STATUSES.includes(result.status as Status)) bad(`results[${i}].status ${JSON.stringify(result.status)} is not one of ${STATUSES.join(', ')}`);
    if (!Array.isArray(result.verdicts)) bad(`results[${i}].verdicts is not an array`);
  }
  return raw as unknown as RunSummary;
}

const STATE_RANK: Record<BackendRun['state'], number> = { ran: 0, skipped: 1, unavailable: 2, crashed: 3 };

/** The same backend seen in several inputs: one class and one identity, the worst state, every reason. */
function mergeBackend(into: BackendRun, next: BackendRun, intoRun: string, nextRun: string): BackendRun {
  if (into.class !== next.class)
    throw new ConformError('RECORD_INVALID', `backend "${next.name}" has class "${into.class}" in run ${intoRun} and "${next.class}" in run ${nextRun}; runs of different configs cannot be merged`);
  const identity: Record<string, unknown> = { ...into.identity };
  for (const [key, value] of Object.entries(next.identity) as Array<[string, unknown]>) {
    if (value === undefined) continue;
    const known = identity[key];
    // Identity values may be records (modelFingerprint): equal when their canonical JSON is, key order aside.
    if (known !== undefined && known !== value && canonicalJson(known) !== canonicalJson(value))
      throw new ConformError(
        'RECORD_INVALID',
        `backend "${next.name}" reports ${key} ${JSON.stringify(known)} in run ${intoRun} and ${JSON.stringify(value)} in run ${nextRun}; results of different builds or devices cannot be merged under one name`,
      );
    identity[key] = value;
  }
  // Reasons accumulate in input order; one already listed (from an earlier merge) is not repeated.
  const reasons = into.reason ? into.reason.split('; ') : [];
  if (next.reason && !reasons.includes(next.reason)) reasons.push(next.reason);
  // Per-backend figures derived from results (latency, goodput) are recomputed by buildSummary from the merged results.
  const merged: BackendRun = {
    ...withoutDerived(into),
    state: STATE_RANK[next.state] > STATE_RANK[into.state] ? next.state : into.state,
    identity: identity as BackendIdentity,
  };
  if (reasons.length) merged.reason = reasons.join('; ');
  merged.coldStart ??= next.coldStart;
  merged.logFile ??= next.logFile;
  if (merged.coldStart === undefined) delete merged.coldStart;
  if (merged.logFile === undefined) delete merged.logFile;
  return merged;
}

function withoutDerived(run: BackendRun): BackendRun {
  const { latency: _latency, goodput: _goodput, ...kept } = run;
  return kept;
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Inputs in an order that depends only on their content, so that merge is order-independent. */
export function canonicalOrder(summaries: RunSummary[]): RunSummary[] {
  const keyed = summaries.map((summary) => ({ summary, key: `${summary.startedAt}\0${summary.runId}`, text: '' }));
  keyed.sort((a, b) => {
    const byKey = compareText(a.key, b.key);
    if (byKey !== 0) return byKey;
    a.text ||= canonicalJson(a.summary);
    b.text ||= canonicalJson(b.summary);
    return compareText(a.text, b.text);
  });
  return keyed.map((k) => k.summary);
}

/** `merged-<earliest start>-<hash of the input run ids>`: the same inputs always give the same id. */
export function mergedRunId(summaries: RunSummary[], startedAt: string): string {
  const runIds = [...new Set(summaries.map((s) => s.runId))].sort(compareText);
  const hash = createHash('sha256').update(runIds.join('\0')).digest('hex');
  return `merged-${createRunId(new Date(startedAt), hash)}`;
}

const describeResult = (r: CaseResult) => `${r.backend}/${r.suite}/${r.caseId}`;

/**
 * The union of several run summaries, keyed by the stable result id. A result may appear twice only
 * with identical content (the same record read twice); anything else means overlapping shards or
 * mixed runs, and is refused. Matrix and totals are recomputed; backends, suites and results come
 * out sorted by name, so the merge does not depend on the order of its inputs.
 */
export function mergeSummaries(summaries: RunSummary[]): RunSummary {
  if (summaries.length === 0) throw new ConformError('USAGE', 'nothing to merge: give at least one run folder or summary.json');
  const inputs = canonicalOrder(summaries);
  const first = inputs[0]!;
  for (const summary of inputs)
    if (summary.schemaVersion !== first.schemaVersion)
      throw new ConformError('RECORD_INVALID', `run ${summary.runId} has schemaVersion ${summary.schemaVersion} but run ${first.runId} has ${first.schemaVersion}; records of different schema versions cannot be merged`);

  const results = new Map<string, { result: CaseResult; text: string; runId: string }>();
  const backends = new Map<string, { run: BackendRun; runId: string }>();
  const suites = new Set<string>();
  let startedAt = first.startedAt;
  let finishedAt = first.finishedAt;
  for (const summary of inputs) {
    if (Date.parse(summary.startedAt) < Date.parse(startedAt)) startedAt = summary.startedAt;
    if (Date.parse(summary.finishedAt) > Date.parse(finishedAt)) finishedAt = summary.finishedAt;
    for (const suite of summary.suites) suites.add(suite);
    for (const run of summary.backends) {
      const seen = backends.get(run.name);
      backends.set(run.name, seen ? { run: mergeBackend(seen.run, run, seen.runId, summary.runId), runId: seen.runId } : { run: withoutDerived(structuredClone(run)), runId: summary.runId });
    }
    for (const result of summary.results) {
      // Where a result sits in its own folder's journal is not part of what it says.
      const text = canonicalJson({ ...result, sampleLine: undefined });
      const seen = results.get(result.id);
      if (!seen) results.set(result.id, { result, text, runId: summary.runId });
      else if (seen.text !== text)
        throw new ConformError(
          'RECORD_INVALID',
          `result ${result.id} (${describeResult(seen.result)}) is in run ${seen.runId} and again, different, in run ${summary.runId}; merge inputs must be disjoint shards or identical copies`,
        );
    }
  }

  const byName = <T>(entries: Iterable<[string, T]>) => [...entries].sort(([a], [b]) => compareText(a, b)).map(([, value]) => value);
  const mergedResults = [...results.values()]
    .map((entry) => structuredClone(entry.result))
    .sort((a, b) => compareText(a.backend, b.backend) || compareText(a.suite, b.suite) || compareText(a.caseId, b.caseId) || compareText(a.id, b.id));
  return buildSummary({
    runId: mergedRunId(inputs, startedAt),
    conformVersion: [...new Set(inputs.map((s) => s.conformVersion))].sort(compareText).join(' + '),
    startedAt,
    finishedAt,
    backends: byName([...backends].map(([name, entry]) => [name, entry.run] as [string, BackendRun])),
    suites: [...suites].sort(compareText),
    results: mergedResults,
    ...partialOf(inputs),
  });
}

/** A merge of which any input is partial is partial too: what was planned and recorded in all, and which inputs. */
function partialOf(inputs: RunSummary[]): Pick<RunSummary, 'partial'> {
  const partial = inputs.filter((s) => s.partial);
  if (partial.length === 0) return {};
  const planned = inputs.reduce((sum, s) => sum + (s.partial?.planned ?? s.results.length), 0);
  const recorded = inputs.reduce((sum, s) => sum + (s.partial?.recorded ?? s.results.length), 0);
  return { partial: { planned, recorded, reason: `run${partial.length > 1 ? 's' : ''} ${partial.map((s) => s.runId).join(', ')} ${partial.length > 1 ? 'are' : 'is'} partial` } };
}
