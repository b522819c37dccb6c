import { relative, resolve } from 'node:path';
import { loadConfig } from '../../config/load-config.ts';
import { badgeStatuses } from '../../core/badge-status.ts';
import { ConformError, EXIT } from '../../core/errors.ts';
import { badgeMessage, writeBadges } from '../../reporters/badge-writer.ts';
import { parseCommandArgs } from '../args.ts';
import type { CliContext } from '../context.ts';
import { gitLine } from './gate.ts';
import { newestRunFolder, readRunSummary } from '../../record/run-folder.ts';

export { BADGE_HELP } from '../command-help.ts';
import { BADGE_HELP } from '../command-help.ts';

/** `conform badge`: per-backend badges and their history. */
export async function badgeCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'badge',
    argv,
    { release: { type: 'string' }, label: { type: 'string' }, out: { type: 'string' }, config: { type: 'string' }, help: { type: 'boolean' } },
    true,
  );
  if (values.help) return ctx.out(BADGE_HELP), EXIT.ok;
  if (positionals.length > 1) throw new ConformError('USAGE', `one run folder at most, got ${positionals.length}; merge them first with "conform merge"`);
  const { config, baseDir } = await loadConfig(ctx.cwd, values.config);
  const run = readRunSummary(positionals[0] ?? newestRunFolder(resolve(baseDir, config.reportsDir)), ctx.cwd);
  // The config schema may carry a release; read it without assuming it does.
  const configRelease = (config as { release?: unknown }).release;
  const release =
    values.release?.trim() ||
    (typeof configRelease === 'string' && configRelease.trim()) ||
    (await gitLine(['describe', '--tags', '--abbrev=0'], ctx)) ||
    'unknown';
  const statuses = badgeStatuses(run.summary, config.backends.map((b) => b.name));
  const outDir = values.out ? resolve(ctx.cwd, values.out) : resolve(baseDir, 'badges');
  writeBadges({ outDir, statuses, release, label: values.label ?? 'conform', runId: run.summary.runId, date: run.summary.finishedAt });
  ctx.out(`badges for run ${run.summary.runId}, release ${release}, in ${relative(ctx.cwd, outDir) || outDir}:`);
  const width = Math.max(0, ...statuses.map((s) => s.backend.length));
  for (const s of statuses) ctx.out(`  ${s.backend.padEnd(width)}  ${badgeMessage(s.status, release)}  (${s.counts.pass} passed, ${s.counts.fail} failed, ${s.counts.error} errors, ${s.counts.skip} skipped)`);
  return EXIT.ok;
}
