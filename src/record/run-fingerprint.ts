import { canonicalSha256 } from '../core/canonical-json.ts';
import type { ConformConfig, GoldenFile, Suite } from '../core/types.ts';
import type { RunFingerprint } from './run-journal.ts';

export interface FingerprintInput {
  conformVersion: string;
  config: ConformConfig;
  suites: Suite[];
  goldens: ReadonlyMap<string, GoldenFile | undefined>;
  /** The stable ids of the plan, in plan order, after sharding. */
  planIds: string[];
}

/** Hashes of everything a run's verdicts depend on, so that a resume can prove it continues the same run. */
export function runFingerprint(input: FingerprintInput): RunFingerprint {
  return {
    conformVersion: input.conformVersion,
    config: canonicalSha256(input.config),
    suites: Object.fromEntries(input.suites.map((s) => [s.name, canonicalSha256(s)])),
    goldens: Object.fromEntries(input.suites.map((s) => [s.name, input.goldens.get(s.name) ? canonicalSha256(input.goldens.get(s.name)) : null])),
    plan: canonicalSha256(input.planIds),
    planned: input.planIds.length,
  };
}

/**
 * Why a run cannot be resumed with what is on disk now, one clause per difference (empty when it can):
 * resuming against other suites, golden files, config or conform would mix two runs in one record.
 */
export function fingerprintDifferences(original: RunFingerprint, now: RunFingerprint, names: { configFile: string; goldenDir: string }): string[] {
  const out: string[] = [];
  if (original.conformVersion !== now.conformVersion) out.push(`it was started by conform ${original.conformVersion}, this is conform ${now.conformVersion}`);
  if (original.config !== now.config) out.push(`the config (${names.configFile}) changed`);
  const before = Object.keys(original.suites);
  const after = Object.keys(now.suites);
  const added = after.filter((s) => !before.includes(s));
  const removed = before.filter((s) => !after.includes(s));
  if (added.length) out.push(`suite${added.length > 1 ? 's' : ''} ${added.join(', ')} ${added.length > 1 ? 'are' : 'is'} new`);
  if (removed.length) out.push(`suite${removed.length > 1 ? 's' : ''} ${removed.join(', ')} ${removed.length > 1 ? 'are' : 'is'} gone`);
  const changed = before.filter((s) => after.includes(s) && original.suites[s] !== now.suites[s]);
  if (changed.length) out.push(`suite${changed.length > 1 ? 's' : ''} ${changed.join(', ')} changed`);
  const goldens = before.filter((s) => after.includes(s) && (original.goldens[s] ?? null) !== (now.goldens[s] ?? null));
  if (goldens.length) out.push(`${goldens.map((s) => `${names.goldenDir}/${s}.json`).join(', ')} ${goldens.length > 1 ? 'were' : 'was'} re-recorded or removed`);
  if (!out.length && (original.plan !== now.plan || original.planned !== now.planned)) out.push('the plan (backends, cases or shard) is not the same');
  return out;
}
