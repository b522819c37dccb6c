import { closeSync, existsSync, mkdirSync, openSync, readSync, renameSync, writeSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { loadConfig } from '../../config/load-config.ts';
import { ConformError, EXIT } from '../../core/errors.ts';
import { canonicalOrder, mergeSummaries } from '../../core/merge.ts';
import { readRunSummary, type RunOnDisk } from '../../record/run-folder.ts';
import type { RunSummary } from '../../core/types.ts';
import { createJsonReporter } from '../../reporters/json-reporter.ts';
import { parseCommandArgs } from '../args.ts';
import type { CliContext } from '../context.ts';

export const MERGE_HELP = `conform merge <run folder or summary.json>... [--out <dir>] [--config <file>]

Merges run records (shards of one run, or one run per backend from a CI matrix) into one run
folder: summary.json with backends and results joined by their stable ids, matrix and totals
recounted, and samples.jsonl concatenated from the inputs that have one. report, gate and badge
read the result like any run. Default --out: <reportsDir>/merged-<start>-<hash of the input run ids>.
A result present in two inputs with different content is refused (exit 2).`;

/** Copies files one after another into `target`, each ending in a newline, a megabyte at a time. */
function concatenateLines(files: string[], target: string): void {
  const temporary = `${target}.${process.pid}.tmp`;
  const out = openSync(temporary, 'w');
  const buffer = Buffer.alloc(1 << 20);
  try {
    for (const file of files) {
      const fd = openSync(file, 'r');
      let last = 0x0a;
      try {
        for (let n; (n = readSync(fd, buffer, 0, buffer.length, null)) > 0; ) {
          writeSync(out, buffer, 0, n);
          last = buffer[n - 1]!;
        }
      } finally {
        closeSync(fd);
      }
      if (last !== 0x0a) writeSync(out, '\n');
    }
  } finally {
    closeSync(out);
  }
  renameSync(temporary, target);
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
  // Journals in the order merge puts its inputs (start time, then run id), copied in chunks: a journal
  // can be larger than any one string. Into a temporary file first, since the output may be an input.
  const runOf = new Map(runs.map((r) => [r.summary, r] as const));
  const journals = canonicalOrder(runs.map((r) => r.summary))
    .map((summary) => join(runOf.get(summary)!.dir, 'samples.jsonl'))
    .filter((file) => existsSync(file));
  mkdirSync(outDir, { recursive: true });
  if (journals.length) concatenateLines(journals, join(outDir, 'samples.jsonl'));
  createJsonReporter().onRunEnd!(merged, outDir);
  const t = merged.totals;
  ctx.out(`merged ${runs.length} run(s): ${runs.map((r) => r.summary.runId).join(', ')}`);
  ctx.out(`${merged.backends.map((b) => b.name).join(', ')}: ${t.pass} passed, ${t.fail} failed, ${t.error} errors, ${t.skip} skipped`);
  if (merged.partial) ctx.out(`partial: ${merged.partial.recorded} of ${merged.partial.planned} planned cases have a result (${merged.partial.reason})`);
  ctx.out(`Results: ${outDir}${basename(outDir) === merged.runId ? '' : ` (run id ${merged.runId})`}`);
  return EXIT.ok;
}
