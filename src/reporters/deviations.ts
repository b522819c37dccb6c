import type { CaseResult, RunSummary } from '../core/types.ts';

/** One kind of protocol deviation on one backend: how many samples showed it, and which cases. */
export interface DeviationKind {
  kind: string;
  count: number;
  cases: string[];
}

/** The kind of a deviation: its name without the detail after a colon ("top-logprobs-capped:20->10"). */
export const deviationKind = (deviation: string) => deviation.split(':')[0]!;

/** Each backend's protocol deviations by kind, in the summary's backend order, most frequent first. */
export function deviationsByBackend(summary: RunSummary): Array<{ backend: string; kinds: DeviationKind[] }> {
  const byBackend = new Map<string, Map<string, DeviationKind>>();
  for (const name of summary.backends.map((b) => b.name)) byBackend.set(name, new Map());
  for (const result of summary.results) {
    const kinds = new Set((result.sample?.deviations ?? []).map(deviationKind));
    if (kinds.size === 0) continue;
    const mine = byBackend.get(result.backend) ?? byBackend.set(result.backend, new Map()).get(result.backend)!;
    for (const kind of kinds) {
      const entry = mine.get(kind) ?? mine.set(kind, { kind, count: 0, cases: [] }).get(kind)!;
      entry.count++;
      entry.cases.push(`${result.suite}/${result.caseId}`);
    }
  }
  return [...byBackend]
    .map(([backend, kinds]) => ({ backend, kinds: [...kinds.values()].sort((a, b) => b.count - a.count || a.kind.localeCompare(b.kind)) }))
    .filter((b) => b.kinds.length > 0);
}

/** "tool-call-id-empty ×3 (function-calling/named-weather, smoke/tool-call-named and 1 more)". */
export function describeDeviation(d: DeviationKind, shown = 3): string {
  const listed = d.cases.slice(0, shown).join(', ');
  return `${d.kind} ×${d.count} (${listed}${d.cases.length > shown ? ` and ${d.cases.length - shown} more` : ''})`;
}

/** A sample's deviations as one line for a test report, or undefined when it had none. */
export function sampleDeviationLine(result: CaseResult): string | undefined {
  const deviations = result.sample?.deviations ?? [];
  return deviations.length ? `protocol deviations: ${deviations.join(', ')}` : undefined;
}
