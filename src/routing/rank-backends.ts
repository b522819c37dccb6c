// Ranks a run's backends per request class under a route policy: of the backends that meet every
// constraint, the cheapest per 1K tokens first (then the lower TTFT). Pure: the run record and the
// policy in, a routing table out, with the reason for every backend left out.

import { percentile } from '../core/latency.ts';
import { busyTime } from '../core/throughput.ts';
import type { BackendRun, CaseResult, RunSummary } from '../core/types.ts';
import type { ClassMatch, RequestClass, RoutePolicy } from './route-policy.ts';

export const ROUTING_SCHEMA_VERSION = 1;

export interface Candidate {
  backend: string;
  eligible: boolean;
  /** The class's requests this backend answered, and how many of its cases pass. */
  requests: number;
  passing: number;
  cases: number;
  ttftMs: number | null;
  ttftPercentile?: number;
  costPer1k: number | null;
  currency?: string;
  costNote?: string;
  labels: Record<string, string>;
  /** Why it is not eligible; empty when it is. */
  reasons: string[];
}

export interface RoutedClass {
  name: string;
  match: ClassMatch;
  constraints: Omit<RequestClass, 'name' | 'match'>;
  /** The backend to send this class to, or null when none meets every constraint. */
  route: string | null;
  /** Every backend, eligible ones first in rank order. */
  candidates: Candidate[];
}

export interface RoutingTable {
  schemaVersion: typeof ROUTING_SCHEMA_VERSION;
  runId: string;
  policy: string;
  classes: RoutedClass[];
}

function inClass(result: CaseResult, match: ClassMatch): boolean {
  if (match.suites && !match.suites.includes(result.suite)) return false;
  if (match.minPromptTokens === undefined && match.maxPromptTokens === undefined) return true;
  const prompt = result.sample?.usage?.promptTokens;
  if (prompt === undefined) return false;
  return (match.minPromptTokens === undefined || prompt >= match.minPromptTokens) && (match.maxPromptTokens === undefined || prompt <= match.maxPromptTokens);
}

/** The class's cost per 1K tokens on a backend: its machine price over the class's busy time, or its API price over the class's tokens. */
function classCost(run: BackendRun, results: CaseResult[]): number | null {
  const cost = run.telemetry?.cost;
  if (!cost) return null;
  const answered = results.filter((r) => r.sample?.kind === 'ok' && r.sample.usage);
  const input = answered.reduce((n, r) => n + r.sample!.usage!.promptTokens, 0);
  const output = answered.reduce((n, r) => n + r.sample!.usage!.completionTokens, 0);
  if (input + output === 0) return null;
  if (cost.basis === 'per-hour' && cost.perHour !== undefined) {
    const busy = busyTime(answered.map((r) => [Date.parse(r.sample!.startedAt), Date.parse(r.sample!.startedAt) + r.sample!.timings.endMs] as const));
    return busy > 0 ? ((cost.perHour * busy) / 3_600_000 / (input + output)) * 1000 : null;
  }
  return (((cost.per1kInput ?? 0) * input + (cost.per1kOutput ?? 0) * output) / 1000 / (input + output)) * 1000;
}

function candidate(run: BackendRun | undefined, backend: string, summary: RunSummary, cls: RequestClass): Candidate {
  const results = summary.results.filter((r) => r.backend === backend && inClass(r, cls.match));
  const cases = results.filter((r) => r.status !== 'skip');
  const passing = cases.filter((r) => r.status === 'pass').length;
  const streamed = results.filter((r) => r.sample?.kind === 'ok' && r.sample.streamed && r.sample.timings.firstTokenMs !== undefined).map((r) => r.sample!.timings.firstTokenMs!);
  const ttftPercentile = cls.ttft?.percentile ?? 90;
  const ttftMs = streamed.length ? percentile(streamed, ttftPercentile) : null;
  const costPer1k = run ? classCost(run, results) : null;
  const reasons: string[] = [];
  const cost = run?.telemetry?.cost;
  const c: Candidate = {
    backend,
    eligible: false,
    requests: results.filter((r) => r.sample).length,
    passing,
    cases: cases.length,
    ttftMs,
    ttftPercentile,
    costPer1k,
    ...(cost && { currency: cost.currency }),
    ...(cost?.note && { costNote: cost.note }),
    labels: run?.labels ?? {},
    reasons,
  };
  if (!run || run.state !== 'ran') reasons.push(`it did not run (${run ? `${run.state}${run.reason ? `: ${run.reason}` : ''}` : 'not in the run record'})`);
  if (cases.length === 0) reasons.push('it answered no case of this class');
  for (const [key, value] of Object.entries(cls.labels ?? {}))
    if (c.labels[key] !== value) reasons.push(`label ${key} is ${c.labels[key] === undefined ? 'not set' : `"${c.labels[key]}"`}, the policy requires "${value}"`);
  for (const suite of cls.requireSuites ?? []) {
    const counts = summary.matrix[backend]?.[suite];
    if (!counts) reasons.push(`suite ${suite} was not run on it`);
    else if (counts.fail + counts.error > 0 || counts.pass === 0) reasons.push(`suite ${suite} does not pass (${counts.pass} pass, ${counts.fail} fail, ${counts.error} error)`);
  }
  if ((cls.requirePassing ?? true) && cases.length > 0 && passing < cases.length) reasons.push(`${cases.length - passing} of its ${cases.length} cases in this class do not pass`);
  if (cls.ttft) {
    if (ttftMs === null) reasons.push('no streamed request of this class, so its TTFT is unknown');
    else if (ttftMs > cls.ttft.maxMs) reasons.push(`p${ttftPercentile} TTFT ${ttftMs.toFixed(1)} ms is over ${cls.ttft.maxMs} ms`);
  }
  if (cls.maxCostPer1k !== undefined) {
    if (costPer1k === null) reasons.push(cost ? 'its cost per 1K tokens for this class is unknown (no answered tokens)' : 'it has no cost in the config, so its cost per 1K tokens is unknown');
    else if (costPer1k > cls.maxCostPer1k) reasons.push(`cost per 1K tokens ${Number(costPer1k.toPrecision(3))} ${c.currency ?? ''} is over ${cls.maxCostPer1k}`.replace('  ', ' '));
  }
  c.eligible = reasons.length === 0;
  return c;
}

const rank = (a: Candidate, b: Candidate) =>
  Number(b.eligible) - Number(a.eligible) ||
  (a.costPer1k ?? Infinity) - (b.costPer1k ?? Infinity) ||
  (a.ttftMs ?? Infinity) - (b.ttftMs ?? Infinity) ||
  (a.backend < b.backend ? -1 : a.backend > b.backend ? 1 : 0);

/** The routing table of a run under a policy: per class, every backend ranked, and the one to use. */
export function rankBackends(summary: RunSummary, policy: RoutePolicy, policyName: string): RoutingTable {
  const backends = [...new Set([...summary.backends.map((b) => b.name), ...summary.results.map((r) => r.backend)])];
  return {
    schemaVersion: ROUTING_SCHEMA_VERSION,
    runId: summary.runId,
    policy: policyName,
    classes: policy.classes.map((cls) => {
      const { name, match, ...constraints } = cls;
      const candidates = backends.map((b) => candidate(summary.backends.find((run) => run.name === b), b, summary, cls)).sort(rank);
      return { name, match, constraints, route: candidates[0]?.eligible ? candidates[0].backend : null, candidates };
    }),
  };
}
