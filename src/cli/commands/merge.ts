import { mkdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { loadConfig } from '../../config/load-config.ts';
import { ConformError, EXIT } from '../../core/errors.ts';
import { canonicalOrder, mergeSummaries } from '../../core/merge.ts';
import { readRunSummary, type RunOnDisk } from '../../record/run-folder.ts';
import type { RunSummary } from '../../core/types.ts';
import { createJsonReporter } from '../../reporters/json-reporter.ts';
import { writeFileInPieces, writeJson } from '../../record/json-writer.ts';
import { parseCommandArgs } from '../args.ts';
import type { CliContext } from '../context.ts';

export { MERGE_HELP } from '../command-help.ts';
import { MERGE_HELP } from '../command-help.ts';

/**
 * The merged folder's journal: a line naming the merged runs, then each merged result with its sample, in
 * the summary's order. Each result's sampleLine is set to its line here, so the summary points into this
 * file as a run's summary points into its own.
 */
function writeMergedJournal(merged: RunSummary, runIds: string[], target: string): RunSummary {
  let line = 1;
  const results = merged.results.map((r) => ({ ...r, sampleLine: ++line }));
  writeFileInPieces(target, (sink) => {
    writeJson(sink, { type: 'merge', runs: runIds });
    sink.write('\n');
    for (const result of results) {
      writeJson(sink, { type: 'result', ...result, sampleLine: undefined });
      sink.write('\n');
    }
  });
  return { ...merged, results };
}

/** `conform merge`: one run folder from many. */
export async function mergeCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('merge', argv, { out: { type: 'string' }, config: { type: 'string' }, help: { type: 'boolean' } }, true);
  if (values.help) return ctx.out(MERGE_HELP), EXIT.ok;
  if (positionals.length === 0) throw new ConformError('USAGE', 'name the run folders or summary.json files to merge. See "conform merge --help".');
  // The same folder named twice (a glob and a path) is one input, not a duplicate.
  const byFile = new Map<string, RunOnDisk>();
  for (const path of positionals) {
    const run = readRunSummary(path, ctx.cwd, { partial: true });
    byFile.set(run.file, run);
  }
  const runs = [...byFile.values()];
  const merged = mergeSummaries(runs.map((r) => r.summary));
  let outDir: string;
  if (values.out) outDir = resolve(ctx.cwd, values.out);
  else {
    const { config, baseDir } = await loadConfig(ctx.cwd, values.config);
    outDir = resolve(baseDir, config.reportsDir, merged.runId);
  }
  mkdirSync(outDir, { recursive: true });
  // Every input, samples included, is in memory by now, so the output may be one of the inputs.
  const written = writeMergedJournal(merged, canonicalOrder(runs.map((r) => r.summary)).map((s) => s.runId), join(outDir, 'samples.jsonl'));
  createJsonReporter().onRunEnd!(written, outDir);
  const t = merged.totals;
  ctx.out(`merged ${runs.length} run(s): ${runs.map((r) => r.summary.runId).join(', ')}`);
  ctx.out(`${merged.backends.map((b) => b.name).join(', ')}: ${t.pass} passed, ${t.fail} failed, ${t.error} errors, ${t.skip} skipped`);
  if (merged.partial) ctx.out(`partial: ${merged.partial.recorded} of ${merged.partial.planned} planned cases have a result (${merged.partial.reason})`);
  ctx.out(`Results: ${outDir}${basename(outDir) === merged.runId ? '' : ` (run id ${merged.runId})`}`);
  return EXIT.ok;
}
