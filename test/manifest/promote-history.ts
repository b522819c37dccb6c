// A synthetic plan history: runs in which variants of cpu win or do not, for the promotion tests.
import type { CaseSpeed, HistoryRun, PlanHistory, PlanRun } from '../../src/manifest/history.ts';

const CASES = Array.from({ length: 12 }, (_, i) => `smoke/case-${i}`);
const baseTtft = (i: number) => 20 + 7 * i;

/** A plan whose TTFT is `ratio` times the base's on every case, with a deterministic wobble of ±2 %. */
export function plan(name: string, ratio: number, passedAll = true): PlanRun {
  const [backend, variant] = name.split('@') as [string, string | undefined];
  const cases: Record<string, CaseSpeed> = {};
  CASES.forEach((id, i) => {
    const wobble = 1 + ((i * 7) % 5 - 2) / 100;
    cases[id] = { ttftMs: baseTtft(i) * ratio * wobble, tokensPerSecond: (300 / ratio) * wobble };
  });
  return {
    backend,
    variant: variant ?? null,
    state: 'ran',
    passedAll,
    suites: { smoke: { pass: passedAll ? 12 : 11, fail: passedAll ? 0 : 1, error: 0, skip: 0 } },
    ttftP50Ms: null,
    tokensPerSecondP50: null,
    cases,
  };
}

/** Base plan times exactly as listed, so that a variant at ratio 1 ties it and wins nothing. */
function base(): PlanRun {
  return plan('cpu', 1);
}

export function run(index: number, plans: PlanRun[]): HistoryRun {
  const day = String(index + 1).padStart(2, '0');
  return { runId: `202612${day}T000000Z-00000${index}`, finishedAt: `2026-12-${day}T01:00:00.000Z`, plans: Object.fromEntries([base(), ...plans].map((p) => [p.variant ? `${p.backend}@${p.variant}` : p.backend, p])) };
}

/**
 * Four nightly runs, newest first: `fast` wins all of them; `lucky` wins the newest two only (a tie
 * before); `broken` is fastest of all but fails a suite in the second newest; `slow` never wins.
 */
export function syntheticHistory(): PlanHistory {
  return {
    schemaVersion: 1,
    runs: [
      run(3, [plan('cpu@fast', 0.7), plan('cpu@lucky', 0.8), plan('cpu@broken', 0.5), plan('cpu@slow', 1.3)]),
      run(2, [plan('cpu@fast', 0.72), plan('cpu@lucky', 0.8), plan('cpu@broken', 0.5, false), plan('cpu@slow', 1.3)]),
      run(1, [plan('cpu@fast', 0.69), plan('cpu@lucky', 1), plan('cpu@broken', 0.5), plan('cpu@slow', 1.3)]),
      run(0, [plan('cpu@fast', 0.7), plan('cpu@lucky', 0.8), plan('cpu@broken', 0.5), plan('cpu@slow', 1.3)]),
    ],
  };
}
