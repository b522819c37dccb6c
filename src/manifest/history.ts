// The plan history (manifests/history.json, committed like badges/history.json): per run, each plan
// of each backend (its base launch and every variant) with its verdicts and its speed per case, so that
// `manifest update` can test a variant against the current plan over several runs. Pure.

import { sampleLatency } from '../core/latency.ts';
import { quantile } from '../core/statistics.ts';
import { parseVariantName } from '../core/variants.ts';
import type { Counts, RunSummary } from '../core/types.ts';

export const HISTORY_SCHEMA_VERSION = 1;
/** Runs kept, newest first; enough for --stable up to this many. @default 30 */
export const HISTORY_RUNS = 30;

/** One case's speed on one plan: TTFT of a streamed answer, decode tokens/s of an answer of 2 tokens or more. */
export interface CaseSpeed {
  ttftMs?: number;
  tokensPerSecond?: number;
}

export interface PlanRun {
  /** The base backend's name. */
  backend: string;
  /** The variant, or null for the backend's base launch. */
  variant: string | null;
  state: string;
  /** Every suite ran without a failure or an error (skips allowed), on a backend that ran. */
  passedAll: boolean;
  suites: Record<string, Counts>;
  ttftP50Ms: number | null;
  tokensPerSecondP50: number | null;
  /** `<suite>/<case>` → speed, for tests paired by case. */
  cases: Record<string, CaseSpeed>;
}

export interface HistoryRun {
  runId: string;
  finishedAt: string;
  /** `<backend>` or `<backend>@<variant>` → that plan in this run. */
  plans: Record<string, PlanRun>;
}

export interface PlanHistory {
  schemaVersion: typeof HISTORY_SCHEMA_VERSION;
  /** Newest first. */
  runs: HistoryRun[];
}

const median = (values: number[]) => (values.length ? quantile(values, 0.5) : null);

/** Each plan of a run: verdict counts per suite, and speed per case from its ok samples. */
export function historyRunOf(summary: RunSummary): HistoryRun {
  const plans: Record<string, PlanRun> = {};
  for (const run of summary.backends) {
    const named = parseVariantName(run.name);
    const suites = summary.matrix[run.name] ?? {};
    const cases: Record<string, CaseSpeed> = {};
    for (const r of summary.results) {
      if (r.backend !== run.name || r.sample?.kind !== 'ok') continue;
      const latency = sampleLatency(r.sample);
      const speed: CaseSpeed = {};
      if (latency.ttftMs !== undefined && latency.ttftMs > 0) speed.ttftMs = latency.ttftMs;
      if (latency.tpotMs !== undefined && latency.tpotMs > 0) speed.tokensPerSecond = 1000 / latency.tpotMs;
      if (speed.ttftMs !== undefined || speed.tokensPerSecond !== undefined) cases[`${r.suite}/${r.caseId}`] = speed;
    }
    const values = (key: keyof CaseSpeed) => Object.values(cases).flatMap((c) => (c[key] === undefined ? [] : [c[key]!]));
    plans[run.name] = {
      backend: named?.backend ?? run.name,
      variant: named?.variant ?? null,
      state: run.state,
      passedAll: run.state === 'ran' && Object.values(suites).every((c) => c.fail === 0 && c.error === 0) && Object.values(suites).some((c) => c.pass > 0),
      suites,
      ttftP50Ms: median(values('ttftMs')),
      tokensPerSecondP50: median(values('tokensPerSecond')),
      cases,
    };
  }
  return { runId: summary.runId, finishedAt: summary.finishedAt, plans };
}

/** Adds a run (replacing an entry of the same run id), newest first, keeping at most `limit` runs. */
export function addToHistory(previous: PlanHistory | undefined, run: HistoryRun, limit = HISTORY_RUNS): PlanHistory {
  const runs = [run, ...(previous?.runs ?? []).filter((r) => r.runId !== run.runId)]
    .sort((a, b) => Date.parse(b.finishedAt) - Date.parse(a.finishedAt) || (a.runId < b.runId ? 1 : -1))
    .slice(0, limit);
  return { schemaVersion: HISTORY_SCHEMA_VERSION, runs };
}

/** Checks a parsed history file, naming the field at fault. */
export function validateHistory(raw: unknown, file: string): PlanHistory | string {
  const h = raw as Partial<PlanHistory> | null;
  if (!h || typeof h !== 'object' || h.schemaVersion !== HISTORY_SCHEMA_VERSION || !Array.isArray(h.runs)) return `${file}: not a conform plan history (schemaVersion 1 with runs[])`;
  for (const [i, run] of h.runs.entries()) {
    if (!run || typeof run.runId !== 'string' || typeof run.finishedAt !== 'string' || !run.plans || typeof run.plans !== 'object') return `${file}: runs[${i}] needs runId, finishedAt and plans`;
    for (const [name, plan] of Object.entries(run.plans))
      if (!plan || typeof plan.backend !== 'string' || typeof plan.passedAll !== 'boolean' || !plan.cases || typeof plan.cases !== 'object') return `${file}: runs[${i}].plans["${name}"] needs backend, passedAll and cases`;
  }
  return h as PlanHistory;
}
