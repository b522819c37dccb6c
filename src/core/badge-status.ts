// What a backend's badge says about a run. Pure: a summary in, one status per backend out.

import { emptyCounts } from './outcome.ts';
import type { Counts, RunSummary } from './types.ts';

/**
 * - passing: every case that was not skipped passed, and at least one passed;
 * - unknown: nothing to go on: not run, everything skipped, or infrastructure errors only;
 * - failing: anything else: a failed check, or errors beside passes.
 */
export type BadgeStatus = 'passing' | 'failing' | 'unknown';

export interface BackendBadgeStatus {
  backend: string;
  status: BadgeStatus;
  counts: Counts;
}

export function badgeStatusOf(counts: Counts): BadgeStatus {
  const ran = counts.pass + counts.fail + counts.error;
  if (counts.pass === 0 && counts.fail === 0) return 'unknown';
  return counts.pass === ran ? 'passing' : 'failing';
}

/**
 * One status per backend of the summary (its backends and its results), plus `unknown` for any
 * of `alsoKnown` (the configured backends) that the run did not include; sorted by name.
 */
export function badgeStatuses(summary: RunSummary, alsoKnown: string[] = []): BackendBadgeStatus[] {
  const counts = new Map<string, Counts>();
  for (const name of [...summary.backends.map((b) => b.name), ...alsoKnown]) if (!counts.has(name)) counts.set(name, emptyCounts());
  for (const r of summary.results) {
    const c = counts.get(r.backend) ?? counts.set(r.backend, emptyCounts()).get(r.backend)!;
    c[r.status] += 1;
  }
  return [...counts]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([backend, c]) => ({ backend, status: badgeStatusOf(c), counts: c }));
}
