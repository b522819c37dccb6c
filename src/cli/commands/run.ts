import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { EXIT } from '../../core/errors.ts';
import { exitCodeForCounts } from '../../core/outcome.ts';
import { filterShard, parseShard } from '../../core/plan.ts';
import { buildSummary } from '../../core/summary.ts';
import type { GoldenFile } from '../../core/types.ts';
import { readGolden } from '../../record/golden-store.ts';
import { createJournal } from '../../record/journal.ts';
import { createReporterSet } from '../../reporters/index.ts';
import { executeRun } from '../../run/execute-run.ts';
import { parseCommandArgs } from '../args.ts';
import type { CliContext } from '../context.ts';
import { CONFORM_VERSION } from '../version.ts';
import { interruptSignal, prepareRun, SELECTION_FLAGS } from '../prepare-run.ts';

export const RUN_HELP = `conform run [--backend <name>]... [--suite <glob>]... [--shard i/n] [--config <file>]

Runs the suites against each backend (launching those with a launch command), compares
every sample with golden, and writes reports/<run-id>/: samples.jsonl (as results land),
summary.json, junit.xml, summary.md and report.html, plus logs/<backend>.log.
Exit codes: 0 all passed, 1 conformance failures, 2 config or usage error, 3 infrastructure errors only.`;

/** `conform run`: the main job. */
export async function runCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values } = parseCommandArgs('run', argv, { ...SELECTION_FLAGS, shard: { type: 'string' }, help: { type: 'boolean' } });
  if (values.help) return ctx.out(RUN_HELP), EXIT.ok;
  const shard = values.shard ? parseShard(values.shard) : undefined;
  const prepared = await prepareRun(values, ctx);
  const goldenDir = resolve(prepared.baseDir, prepared.config.goldenDir);
  const goldens = new Map<string, GoldenFile | undefined>(prepared.suites.map((s) => [s.name, readGolden(goldenDir, s.name)]));
  mkdirSync(prepared.runDir, { recursive: true });
  const journal = createJournal(prepared.runDir);
  journal.append({ type: 'run', schemaVersion: 1, runId: prepared.runId, conformVersion: CONFORM_VERSION, startedAt: prepared.startedAt.toISOString() });
  // Files first, the console last: its closing line points at what was written, and failures follow it.
  const reporters = createReporterSet(['json', 'junit', 'markdown', 'html', 'console'], { write: ctx.out, progress: ctx.isTTY, githubStepSummary: ctx.env.GITHUB_STEP_SUMMARY, goldens });
  const interrupt = interruptSignal(ctx);
  try {
    const { backends, results } = await executeRun({
      backends: prepared.backends,
      suites: prepared.suites,
      filter: shard ? (item) => filterShard([item], shard).length === 1 : undefined,
      runDir: prepared.runDir,
      modelPath: prepared.modelPath,
      env: ctx.env,
      apiKeys: prepared.apiKeys,
      goldens,
      mode: 'compare',
      journal,
      signal: interrupt.signal,
      hooks: reporters,
    });
    const summary = buildSummary({
      runId: prepared.runId,
      conformVersion: CONFORM_VERSION,
      startedAt: prepared.startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      backends,
      suites: prepared.suites.map((s) => s.name),
      results,
    });
    const failures = reporters.end(summary, prepared.runDir);
    for (const { line } of failures) ctx.err(`conform run: ${line}`);
    if (interrupt.signal.aborted) return 130;
    const code = exitCodeForCounts(summary.totals);
    // A run whose reports did not all get written has not delivered, even if every case passed.
    return failures.length && code === EXIT.ok ? EXIT.infrastructure : code;
  } finally {
    interrupt.dispose();
  }
}
