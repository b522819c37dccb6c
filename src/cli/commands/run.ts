import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { EXIT } from '../../core/errors.ts';
import { exitCodeForCounts } from '../../core/outcome.ts';
import { filterShard, parseShard } from '../../core/plan.ts';
import { buildSummary } from '../../core/summary.ts';
import { expandVariants } from '../../core/variants.ts';
import type { GoldenFile } from '../../core/types.ts';
import { readSuiteGolden } from '../../record/golden-store.ts';
import { createJournal } from '../../record/journal.ts';
import { createConsoleReporter } from '../../reporters/console-reporter.ts';
import { createJsonReporter } from '../../reporters/json-reporter.ts';
import { createHtmlReporter } from '../../reporters/html-reporter.ts';
import { createJunitReporter } from '../../reporters/junit-reporter.ts';
import { createMarkdownReporter } from '../../reporters/markdown-reporter.ts';
import type { Reporter } from '../../reporters/reporter.ts';
import { executeRun } from '../../run/execute-run.ts';
import { parseCommandArgs } from '../args.ts';
import type { CliContext } from '../context.ts';
import { CONFORM_VERSION } from '../version.ts';
import { interruptSignal, prepareRun, SELECTION_FLAGS } from '../prepare-run.ts';

export const RUN_HELP = `conform run [--backend <name>]... [--suite <glob>]... [--shard i/n] [--variants] [--config <file>]

Runs the suites against each backend (launching those with a launch command), compares
every sample with golden, and writes reports/<run-id>/: samples.jsonl (as results land),
summary.json, junit.xml, summary.md and report.html, plus logs/<backend>.log.
--variants also runs each backend's plan variants (config: variants), as <backend>@<variant>.
Exit codes: 0 all passed, 1 conformance failures, 2 config or usage error, 3 infrastructure errors only.`;

/** `conform run`: the main job. */
export async function runCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values } = parseCommandArgs('run', argv, { ...SELECTION_FLAGS, shard: { type: 'string' }, variants: { type: 'boolean' }, help: { type: 'boolean' } });
  if (values.help) return ctx.out(RUN_HELP), EXIT.ok;
  const shard = values.shard ? parseShard(values.shard) : undefined;
  const prepared = await prepareRun(values, ctx);
  const goldenDir = resolve(prepared.baseDir, prepared.config.goldenDir);
  const goldens = new Map<string, GoldenFile | undefined>(prepared.suites.map((s) => [s.name, readSuiteGolden(goldenDir, s)]));
  mkdirSync(prepared.runDir, { recursive: true });
  const journal = createJournal(prepared.runDir);
  journal.append({ type: 'run', schemaVersion: 1, runId: prepared.runId, conformVersion: CONFORM_VERSION, startedAt: prepared.startedAt.toISOString() });
  const reporters: Reporter[] = [
    createConsoleReporter({ write: ctx.out, progress: ctx.isTTY }),
    createJsonReporter(),
    createJunitReporter(),
    createMarkdownReporter({ githubStepSummary: ctx.env.GITHUB_STEP_SUMMARY }),
    createHtmlReporter({ goldens }),
  ];
  const interrupt = interruptSignal(ctx);
  try {
    const { backends, results } = await executeRun({
      backends: values.variants ? expandVariants(prepared.backends) : prepared.backends,
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
      hooks: {
        onBackendProgress: (b, line) => reporters.forEach((r) => r.onBackendProgress?.(b, line)),
        onBackendReady: (run) => reporters.forEach((r) => r.onBackendReady?.(run)),
        onResult: (result) => reporters.forEach((r) => r.onResult?.(result)),
      },
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
    for (const reporter of reporters) reporter.onRunEnd?.(summary, prepared.runDir);
    if (interrupt.signal.aborted) return 130;
    return exitCodeForCounts(summary.totals);
  } finally {
    interrupt.dispose();
  }
}
