import { createHash } from 'node:crypto';

/**
 * A case keeps the same id on every shard and machine, so that merge and the gate can
 * join results by id; a NUL separator keeps ("a","bc") and ("ab","c") apart.
 */
export function caseResultId(backend: string, suite: string, caseId: string): string {
  return createHash('sha256').update(`${backend}\0${suite}\0${caseId}`).digest('hex').slice(0, 16);
}

/** A sortable, collision-resistant run id: UTC time first so folders list in order. */
export function createRunId(now: Date, entropy: string): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${entropy.slice(0, 6)}`;
}
