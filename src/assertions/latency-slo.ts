// Per-sample latency limits, in the vLLM benchmark and MLPerf definitions (ANCHORS.md, "Timing"; the
// figures come from core/latency.ts's sampleLatency):
// - TTFT: first content-carrying chunk (`timings.firstTokenMs`); streamed samples only.
// - TPOT: (E2EL − TTFT) / (n − 1), n = usage.completionTokens, else the logprob token count (else, as
//   sampleLatency does, the content chunk count); streamed samples with n ≥ 2 only. Not GuideLLM's TPOT.
// - E2EL: request sent to end of body (`timings.endMs`); every sample.
// No limit has a default: an SLO belongs to a deployment, not to conform. MLPerf's p99 limits for
// llama3.1-8b, 2000 ms TTFT / 100 ms TPOT (Server) and 500 / 30 ms (Interactive), are examples to copy.
// A check on one sample is not a percentile: a suite that wants p99 repeats the case and reads the summary.
// Each figure is judged with the CPU wait of conform and its backend during the request taken out
// (core/machine-load.ts): a limit is about the backend, and a busy machine says so instead of failing it.

import { sampleLatency } from '../core/latency.ts';
import { judgeTimed } from '../core/machine-load.ts';
import type { CheckSpec, Verdict } from '../core/types.ts';
import { budgetForClass } from './class-budget.ts';
import type { Comparator } from './comparator.ts';

const CHECK = 'latency-slo';

export const SLO_METRICS = ['ttftMs', 'tpotMs', 'e2elMs'] as const;
export type SloMetric = (typeof SLO_METRICS)[number];
export type SloOptions = Partial<Record<SloMetric, number>>;

const LABEL: Record<SloMetric, string> = { ttftMs: 'TTFT', tpotMs: 'TPOT', e2elMs: 'E2EL' };

/** One limit's outcome: measured against its limit, or why it could not be measured. */
export interface SloResult {
  metric: SloMetric;
  limitMs: number;
  measuredMs?: number;
  /** The measured figure less its share of the CPU wait during the request; what is compared with the limit. */
  withoutWaitMs?: number;
  ok?: boolean;
  /** Within the limit only once the CPU wait is taken out. */
  excused?: boolean;
  /** withoutWaitMs / limit: above 1 is a violation; the largest is the worst. */
  ratio?: number;
  unmeasured?: string;
}

/** The limits a check sets, or a message naming the bad one. */
export function sloOptions(spec: CheckSpec, backendClass?: string): SloOptions | string {
  const options: SloOptions = {};
  for (const metric of SLO_METRICS) {
    if (spec[metric] === undefined) continue;
    const value = budgetForClass(spec[metric], backendClass);
    if (typeof value !== 'number' || !(value > 0)) return `${CHECK} option ${metric} must be a positive number of milliseconds, or one per backend class with a default, got ${JSON.stringify(spec[metric])}`;
    options[metric] = value;
  }
  if (Object.keys(options).length === 0) return `${CHECK} sets no limit: give at least one of ttftMs, tpotMs, e2elMs, for example { kind: latency-slo, ttftMs: 2000, tpotMs: 100 }`;
  return options;
}

const ms = (x: number): string => `${x.toFixed(1)} ms`;

export const latencySlo: Comparator = {
  kind: CHECK,
  needsReference: false,
  compare({ sample, spec, backendClass }): Verdict {
    const options = sloOptions(spec, backendClass);
    if (typeof options === 'string') return { check: CHECK, status: 'error', message: options };
    const latency = sampleLatency(sample);
    const measured: Record<SloMetric, number | undefined> = {
      ttftMs: sample.streamed ? latency.ttftMs : undefined,
      tpotMs: sample.streamed ? latency.tpotMs : undefined,
      e2elMs: latency.e2elMs,
    };
    const why: Record<SloMetric, string> = {
      ttftMs: sample.streamed ? 'no content arrived' : 'not streamed',
      tpotMs: !sample.streamed ? 'not streamed' : latency.ttftMs === undefined ? 'no content arrived' : `fewer than 2 output tokens (${latency.outputTokens ?? 'unknown'})`,
      e2elMs: 'no end time',
    };
    const results: SloResult[] = [];
    for (const metric of SLO_METRICS) {
      const limitMs = options[metric];
      if (limitMs === undefined) continue;
      const value = measured[metric];
      if (value === undefined || !Number.isFinite(value)) results.push({ metric, limitMs, unmeasured: why[metric] });
      else {
        const judged = judgeTimed(value, limitMs, sample.machine);
        results.push({ metric, limitMs, measuredMs: value, ...(sample.machine ? { withoutWaitMs: judged.judgedMs } : {}), ok: judged.ok, ...(judged.excused ? { excused: true } : {}), ratio: judged.judgedMs / limitMs });
      }
    }
    const slow = judgeTimed(latency.e2elMs, Number.POSITIVE_INFINITY, sample.machine, 'E2EL').note;
    const details = { results, outputTokens: latency.outputTokens ?? null, outputTokensSource: latency.outputTokensSource ?? null, ...(sample.machine ? { machine: sample.machine } : {}) };
    const judged = results.filter((r) => r.measuredMs !== undefined).sort((a, b) => b.ratio! - a.ratio!);
    const unmeasured = results.filter((r) => r.unmeasured !== undefined);
    const unmeasuredNote = `${unmeasured.length > 0 ? `; not measured: ${unmeasured.map((r) => `${LABEL[r.metric]} (${r.unmeasured})`).join(', ')}` : ''}${slow ? `; ${slow}` : ''}`;
    const worst = judged[0];
    if (!worst) return { check: CHECK, status: 'skip', message: `no limited metric could be measured${unmeasuredNote}`, details };
    const withoutWait = (r: SloResult): string => (r.excused || (!r.ok && r.withoutWaitMs !== undefined && r.withoutWaitMs < r.measuredMs!) ? ` (${ms(r.withoutWaitMs!)} without the CPU wait)` : '');
    const shown = (r: SloResult): string => `${LABEL[r.metric]} ${ms(r.measuredMs!)}${withoutWait(r)} ${r.ok ? '≤' : '>'} ${ms(r.limitMs)}`;
    const violations = judged.filter((r) => !r.ok);
    if (violations.length > 0)
      return {
        check: CHECK,
        status: 'fail',
        measured: worst.measuredMs!,
        threshold: worst.limitMs,
        message: `over its latency limit: ${violations.map(shown).join(', ')}${unmeasuredNote}`,
        details,
      };
    return {
      check: CHECK,
      status: 'pass',
      measured: worst.measuredMs!,
      threshold: worst.limitMs,
      message: `within limits: ${judged.map(shown).join(', ')}${unmeasuredNote}`,
      details,
    };
  },
};
