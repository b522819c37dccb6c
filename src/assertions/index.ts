import type { Case } from '../core/types.ts';
import type { Comparator } from './comparator.ts';
import { exact } from './exact.ts';
import { greedyDivergence } from './greedy-divergence.ts';
import { jsonSchema } from './json-schema.ts';
import { toolCall } from './tool-call.ts';
import { determinism } from './determinism.ts';
import { matchesCase } from './matches-case.ts';
import { startBudget } from './start-budget.ts';
import { toolCallsMatch } from './tool-calls-match.ts';
import { agentLoop } from './agent-loop.ts';
import { distribution } from './distribution.ts';
import { streamInvariants } from './stream-invariants.ts';
import { degeneration } from './degeneration.ts';
import { latencySlo } from './latency-slo.ts';
import { stopRespected } from './stop-respected.ts';
import { maxTokens } from './max-tokens.ts';
import { promptTokens } from './prompt-tokens.ts';
import { textMatchesTokens } from './text-matches-tokens.ts';
import { reasoningSplit } from './reasoning-split.ts';
import { modelIdentity } from './model-identity.ts';
import { seed } from './seed.ts';

/** Comparators by kind: an exact map, so a typo in a suite is an error, not a silent fallback. */
export const COMPARATORS: ReadonlyMap<string, Comparator> = new Map(
  [
    exact, greedyDivergence, jsonSchema, toolCall, toolCallsMatch, matchesCase, determinism, startBudget, agentLoop, distribution, streamInvariants, degeneration, latencySlo, stopRespected,
    maxTokens, promptTokens, textMatchesTokens, reasoningSplit, modelIdentity, seed,
  ].map((c) => [c.kind, c]),
);

export type { Comparator, CompareInput } from './comparator.ts';

/** The ids of the cases whose samples a later case of the same suite compares with: the only samples a run keeps whole. */
export function referencedCaseIds(cases: readonly Case[]): Set<string> {
  const ids = new Set<string>();
  for (const testCase of cases) for (const spec of testCase.checks) for (const id of COMPARATORS.get(spec.kind)?.referencedCases?.(spec) ?? []) ids.add(id);
  return ids;
}
