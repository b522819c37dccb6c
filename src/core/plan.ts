import { ConformError } from './errors.ts';
import { caseResultId } from './ids.ts';
import type { BackendConfig, Case, Suite } from './types.ts';

/** One unit of work: a case on a backend, with its stable id. */
export interface PlanItem {
  id: string;
  backend: BackendConfig;
  suite: Suite;
  testCase: Case;
}

/** Backend × suite × case, in a stable order so that shards are the same everywhere. */
export function expandPlan(backends: BackendConfig[], suites: Suite[]): PlanItem[] {
  const items: PlanItem[] = [];
  for (const backend of backends)
    for (const suite of suites)
      for (const testCase of suite.cases)
        items.push({ id: caseResultId(backend.name, suite.name, testCase.id), backend, suite, testCase });
  return items;
}

export interface Shard {
  index: number;
  total: number;
}

/** Parses "i/n" (1-based), the form CI matrices pass through. */
export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = match ? Number(match[1]) : NaN;
  const total = match ? Number(match[2]) : NaN;
  if (!match || total < 1 || index < 1 || index > total)
    throw new ConformError('USAGE', `--shard "${text}", expected format is "current/all", 1-based, for example "3/5"`);
  return { index, total };
}

/** Assigns by id hash rather than position, so adding a case moves no other case between shards. */
export function filterShard(items: PlanItem[], shard: Shard): PlanItem[] {
  return items.filter((item) => Number.parseInt(item.id.slice(0, 8), 16) % shard.total === shard.index - 1);
}
