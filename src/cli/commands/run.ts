import { mkdirSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { ConformError, EXIT } from '../../core/errors.ts';
import { exitCodeForCounts } from '../../core/outcome.ts';
import { expandPlan, filterShard, parseShard, type PlanItem } from '../../core/plan.ts';
import { buildSummary } from '../../core/summary.ts';
import { expandVariants } from '../../core/variants.ts';
import type { GoldenFile, RunSummary } from '../../core/types.ts';
import { readSuiteGolden } from '../../record/golden-store.ts';
import { createJournal } from '../../record/journal.ts';
import { fingerprintDifferences, runFingerprint } from '../../record/run-fingerprint.ts';
import { repairJournal, resumableRun, type ResumableRun, type ResumeInfo } from '../../record/run-journal.ts';
import { createReporterSet } from '../../reporters/index.ts';
import { executeRun } from '../../run/execute-run.ts';
import { parseCommandArgs } from '../args.ts';
import type { CliContext } from '../context.ts';
import { CONFORM_VERSION } from '../version.ts';
import { interruptSignal, prepareRun, SELECTION_FLAGS } from '../prepare-run.ts';

export { RUN_HELP } from '../command-help.ts';
import { RUN_HELP } from '../command-help.ts';

const shown = (dir: string, cwd: string) => relative(cwd, dir) || dir;

/** The run to continue, and the selection it was started with; selection flags cannot be given again. */
function resumeTarget(values: { resume?: string; backend?: string[]; suite?: string[]; shard?: string; variants?: boolean }, ctx: CliContext): ResumableRun {
  const given = (['backend', 'suite', 'shard', 'variants'] as const).filter((flag) => values[flag] !== undefined && (!Array.isArray(values[flag]) || values[flag]!.length > 0));
  if (given.length)
    throw new ConformError('USAGE', `--resume continues a run with the backends, suites and shard it was started with; drop ${given.map((f) => `--${f}`).join(', ')}`);
  return resumableRun(values.resume!, ctx.cwd);
}

/** `conform run`: the main job. */
export async function runCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values } = parseCommandArgs('run', argv, { ...SELECTION_FLAGS, shard: { type: 'string' }, variants: { type: 'boolean' }, resume: { type: 'string' }, help: { type: 'boolean' } });
  if (values.help) return ctx.out(RUN_HELP), EXIT.ok;
  const resuming = values.resume !== undefined ? resumeTarget(values, ctx) : undefined;
  const original = resuming?.header.resume.selection;
  const selection: ResumeInfo['selection'] = original
    ? { ...original, config: values.config ?? original.config }
    : { backends: values.backend ?? [], suites: values.suite ?? [], shard: values.shard, config: values.config && resolve(ctx.cwd, values.config), ...(values.variants ? { variants: true } : {}) };
  const shard = selection.shard ? parseShard(selection.shard) : undefined;
  const prepared = await prepareRun({ backend: selection.backends, suite: selection.suites, config: selection.config }, ctx);
  const goldenDir = resolve(prepared.baseDir, prepared.config.goldenDir);
  const goldens = new Map<string, GoldenFile | undefined>(prepared.suites.map((s) => [s.name, readSuiteGolden(goldenDir, s)]));
  const filter = shard ? (item: PlanItem) => filterShard([item], shard).length === 1 : undefined;
  // Variants are backends of their own from here on: the plan, the fingerprint and a resume all see them.
  const runBackends = selection.variants ? expandVariants(prepared.backends) : prepared.backends;
  const planIds = expandPlan(runBackends, prepared.suites).filter(filter ?? (() => true)).map((item) => item.id);
  const fingerprint = runFingerprint({ conformVersion: CONFORM_VERSION, config: prepared.config, suites: prepared.suites, goldens, planIds });

  let runId = prepared.runId;
  let runDir = prepared.runDir;
  let startedAt = prepared.startedAt.toISOString();
  let resumed: RunSummary['resumed'];
  if (resuming) {
    const differences = fingerprintDifferences(resuming.header.resume.fingerprint, fingerprint, { configFile: selection.config ? shown(selection.config, ctx.cwd) : 'conform.config.* of this folder', goldenDir: relative(prepared.baseDir, goldenDir) || '.' });
    if (differences.length)
      throw new ConformError('USAGE', `cannot resume ${shown(resuming.dir, ctx.cwd)}: ${differences.join('; ')} since it started; resuming would mix two runs in one record, so start a new run`);
    ({ runId, startedAt } = resuming.header);
    runDir = resuming.dir;
    const { contents } = resuming;
    repairJournal(contents);
    if (contents.droppedBytes)
      ctx.err(`conform run: ${shown(contents.file, ctx.cwd)}: left out its last line (${contents.droppedBytes.toLocaleString('en-US')} bytes), cut short when the run was killed; that case runs again`);
    resumed = [...contents.resumes, { at: new Date().toISOString(), recorded: contents.results.length, ...(contents.droppedBytes ? { droppedPartialLine: true } : {}) }];
    ctx.err(`conform run: resuming run ${runId}: ${contents.results.length} of ${planIds.length} cases already have a result`);
  }
  mkdirSync(runDir, { recursive: true });
  const journal = createJournal(runDir, { linesBefore: resuming?.contents.lines });
  if (resumed) journal.append({ type: 'resume', ...resumed.at(-1)! });
  else {
    const resume: ResumeInfo = { selection, fingerprint };
    journal.append({ type: 'run', schemaVersion: 1, runId, conformVersion: CONFORM_VERSION, startedAt, suites: prepared.suites.map((s) => s.name), resume });
  }
  // Files first, the console last: its closing line points at what was written, and failures follow it.
  const reporters = createReporterSet(['json', 'junit', 'markdown', 'html', 'console'], { write: ctx.out, progress: ctx.isTTY, githubStepSummary: ctx.env.GITHUB_STEP_SUMMARY, goldens });
  const interrupt = interruptSignal(ctx);
  try {
    const { backends, results } = await executeRun({
      backends: runBackends,
      suites: prepared.suites,
      filter,
      runDir,
      modelPath: prepared.modelPath,
      env: ctx.env,
      apiKeys: prepared.apiKeys,
      goldens,
      mode: 'compare',
      journal,
      signal: interrupt.signal,
      hooks: reporters,
      recorded: resuming && { results: resuming.contents.results, backends: resuming.contents.backends },
      trimPassingSamples: true,
    });
    const summary = buildSummary({
      runId,
      conformVersion: CONFORM_VERSION,
      startedAt,
      finishedAt: new Date().toISOString(),
      backends,
      suites: prepared.suites.map((s) => s.name),
      results,
      ...(results.length < planIds.length ? { partial: { planned: planIds.length, recorded: results.length, reason: 'interrupted before every case had a result' } } : {}),
      ...(resumed ? { resumed } : {}),
    });
    const failures = reporters.end(summary, runDir);
    for (const { line } of failures) ctx.err(`conform run: ${line}`);
    if (interrupt.signal.aborted) return 130;
    const code = exitCodeForCounts(summary.totals);
    // A run whose reports did not all get written has not delivered, even if every case passed.
    return failures.length && code === EXIT.ok ? EXIT.infrastructure : code;
  } finally {
    journal.close();
    interrupt.dispose();
  }
}
