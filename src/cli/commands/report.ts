import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { loadConfig } from '../../config/load-config.ts';
import { ConformError, EXIT } from '../../core/errors.ts';
import { SUMMARY_SCHEMA_VERSION, type GoldenFile, type RunSummary } from '../../core/types.ts';
import { readGolden } from '../../record/golden-store.ts';
import { newestRunFolder, readRunSummary } from '../../record/run-folder.ts';
import { createReporterSet, isReporterName, REPORTER_NAMES, REPORTER_OUTPUT, type ReporterName } from '../../reporters/index.ts';
import { parseCommandArgs } from '../args.ts';
import type { CliContext } from '../context.ts';

export { REPORT_HELP } from '../command-help.ts';
import { REPORT_HELP } from '../command-help.ts';

const DEFAULT_REPORTERS: ReporterName[] = ['junit', 'markdown', 'html'];

function shown(file: string, cwd: string): string {
  return relative(cwd, file) || file;
}

function reporterNames(values: string[] | undefined): ReporterName[] {
  if (!values?.length) return DEFAULT_REPORTERS;
  const names = [...new Set(values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean))];
  const unknown = names.filter((n) => !isReporterName(n));
  if (unknown.length || names.length === 0)
    throw new ConformError('USAGE', `--reporter ${unknown.map((n) => `"${n}"`).join(', ') || '(empty)'}: unknown; known reporters: ${REPORTER_NAMES.join(', ')}, for example --reporter junit,html`);
  return names as ReporterName[];
}

/** Golden files of the run's suites that exist, so diffs can show golden beyond the divergence; the model drops any recorded after the run. */
function goldensFor(summary: RunSummary, goldenDir: string, ctx: CliContext): Map<string, GoldenFile | undefined> {
  const goldens = new Map<string, GoldenFile | undefined>();
  for (const suite of summary.suites) {
    if (typeof suite !== 'string' || /[\\/]|\.\./.test(suite)) continue;
    try {
      goldens.set(suite, readGolden(goldenDir, suite));
    } catch (error) {
      // A broken golden file costs the diff its golden tail, not the whole report.
      ctx.err(`conform report: ${(error as Error).message}; diffs of suite ${suite} show only what the run record holds`);
    }
  }
  return goldens;
}

/** `conform report`: render reports again from a run record, without running anything. */
export async function reportCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('report', argv, { reporter: { type: 'string', multiple: true }, config: { type: 'string' }, help: { type: 'boolean' } }, true);
  if (values.help) return ctx.out(REPORT_HELP), EXIT.ok;
  if (positionals.length > 1) throw new ConformError('USAGE', `one run folder at a time, got ${positionals.length}. See "conform report --help".`);
  const names = reporterNames(values.reporter);
  const { config, baseDir } = await loadConfig(ctx.cwd, values.config);
  // A run killed before it finished is reported too, from its journal, and marked partial.
  const { summary, dir } = readRunSummary(positionals[0] ?? newestRunFolder(resolve(baseDir, config.reportsDir)), ctx.cwd, { partial: true });
  if (summary.partial) ctx.err(`conform report: run ${summary.runId} is partial: ${summary.partial.recorded} of ${summary.partial.planned} cases have a result (${summary.partial.reason})`);
  const goldens = names.includes('html') ? goldensFor(summary, resolve(baseDir, config.goldenDir), ctx) : undefined;
  const failures = createReporterSet(names, { write: ctx.out, progress: false, githubStepSummary: ctx.env.GITHUB_STEP_SUMMARY, goldens }).end(summary, dir);
  const written = names.filter((n) => n !== 'console' && !failures.some((f) => f.name === n)).map((n) => REPORTER_OUTPUT[n]);
  if (written.length) ctx.out(`${shown(dir, ctx.cwd) || '.'}: wrote ${written.join(', ')}`);
  for (const { line } of failures) ctx.err(`conform report: ${line}`);
  return failures.length ? EXIT.infrastructure : EXIT.ok;
}
