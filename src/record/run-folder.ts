import { constants } from 'node:buffer';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { loadConfig } from '../config/load-config.ts';
import { ConformError } from '../core/errors.ts';
import { validateRunSummary } from '../core/merge.ts';
import { buildSummary } from '../core/summary.ts';
import type { RunSummary, Sample } from '../core/types.ts';
import { readJournal } from './run-journal.ts';
import { extend } from '../core/extend.ts';

// Run folders are read by report, merge, gate and badge alike; one reader keeps their errors the same.

/** A run on disk: its summary and the folder it lives in. */
export interface RunOnDisk {
  summary: RunSummary;
  file: string;
  dir: string;
}

export interface ReadRunOptions {
  /**
   * Accept a folder whose run was killed before it wrote summary.json: the summary is rebuilt from
   * samples.jsonl and marked partial. Report and merge take one; gate and badge must not judge one.
   * @default false
   */
  partial?: boolean;
}

/** The summary of a run killed before it finished, rebuilt from its journal and marked partial. */
function summaryFromJournal(dir: string, shownDir: string): RunOnDisk {
  const contents = readJournal(dir);
  const header = contents.header;
  if (!header) throw new ConformError('RECORD_INVALID', `${join(shownDir, 'samples.jsonl')}: its first line is not a run header, so no summary can be rebuilt from it`);
  const suites = header.suites ?? [...new Set(contents.results.map((r) => r.suite))];
  const summary = buildSummary({
    runId: header.runId,
    conformVersion: header.conformVersion,
    startedAt: header.startedAt,
    finishedAt: statSync(contents.file).mtime.toISOString(),
    backends: contents.backends,
    suites,
    results: contents.results,
    partial: { planned: header.resume?.fingerprint.planned ?? contents.results.length, recorded: contents.results.length, reason: 'killed before it finished; rebuilt from samples.jsonl' },
    ...(contents.resumes.length ? { resumed: contents.resumes } : {}),
  });
  return { summary: validateRunSummary(summary, join(shownDir, 'samples.jsonl')), file: contents.file, dir };
}

/** A run folder (holding summary.json) or a summary file; relative paths are taken from cwd. */
export function readRunSummary(path: string, cwd: string, options: ReadRunOptions = {}): RunOnDisk {
  const target = resolve(cwd, path);
  if (!existsSync(target)) throw new ConformError('RECORD_INVALID', `${path}: no such run folder`);
  const file = statSync(target).isDirectory() ? join(target, 'summary.json') : target;
  if (!existsSync(file) && existsSync(join(target, 'samples.jsonl'))) {
    if (options.partial) return summaryFromJournal(target, path);
    const recorded = readJournal(target).results.length;
    throw new ConformError(
      'RECORD_INVALID',
      `${path} has no summary.json: its run was killed before it finished (samples.jsonl holds ${recorded} result${recorded === 1 ? '' : 's'}); finish it with "conform run --resume ${path}", or see what it holds with "conform report ${path}"`,
    );
  }
  if (!existsSync(file)) throw new ConformError('RECORD_INVALID', `${join(path, 'summary.json')}: no such file; is ${path} a run folder (reports/<run-id>)?`);
  const size = statSync(file).size;
  if (size > constants.MAX_STRING_LENGTH)
    throw new ConformError('RECORD_INVALID', `${relative(cwd, file) || file}: ${Math.round(size / 2 ** 20).toLocaleString('en-US')} MiB, more than conform can read back (${Math.floor(constants.MAX_STRING_LENGTH / 2 ** 20)} MiB); its run wrote junit.xml, summary.md and report.html when it ended`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConformError('RECORD_INVALID', `${relative(cwd, file) || file}: not valid JSON: ${(error as Error).message.split('\n')[0]}`, { cause: error });
  }
  const summary = validateRunSummary(raw, relative(cwd, file) || file);
  return { summary: withJournalSamples(summary, dirname(file)), file, dir: dirname(file) };
}

/**
 * The summary with each result's sample read back from the journal beside it (summary.json points into
 * samples.jsonl rather than copying the samples). A result whose line is gone keeps no sample, as does
 * every result of a summary with no journal beside it: checks and reports treat it as a case without one.
 */
function withJournalSamples(summary: RunSummary, dir: string): RunSummary {
  const wanted = summary.results.some((r) => !r.sample && r.sampleLine !== undefined);
  if (!wanted || !existsSync(join(dir, 'samples.jsonl'))) return summary;
  const samples = new Map<string, Sample>();
  for (const r of readJournal(dir).results) if (r.sample) samples.set(r.id, r.sample);
  return { ...summary, results: summary.results.map((r) => (r.sample || !samples.has(r.id) ? r : extend(r, { sample: samples.get(r.id) }))) };
}

/** The record a run folder holds: summary.json, or the journal of a run killed before it wrote one. */
function recordOf(dir: string): string | undefined {
  return [join(dir, 'summary.json'), join(dir, 'samples.jsonl')].find((file) => existsSync(file));
}

/** The run folder under reportsDir whose record was written last (ties: the greater name); a killed run counts. */
export function newestRunFolder(reportsDir: string): string {
  const candidates = existsSync(reportsDir)
    ? readdirSync(reportsDir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory() && recordOf(join(reportsDir, entry.name)))
        .map((entry) => ({ dir: join(reportsDir, entry.name), mtime: statSync(recordOf(join(reportsDir, entry.name))!).mtimeMs }))
    : [];
  candidates.sort((a, b) => b.mtime - a.mtime || (a.dir < b.dir ? 1 : a.dir > b.dir ? -1 : 0));
  if (!candidates[0]) throw new ConformError('RECORD_INVALID', `${reportsDir}: no run folder with a summary.json; run "conform run" first or name a run folder`);
  return candidates[0].dir;
}

/** The positional run folder, or the newest under the config's reportsDir. */
export async function runFolderOrNewest(path: string | undefined, cwd: string, configFile?: string, options: ReadRunOptions = {}): Promise<RunOnDisk> {
  if (path) return readRunSummary(path, cwd, options);
  const { config, baseDir } = await loadConfig(cwd, configFile);
  return readRunSummary(newestRunFolder(resolve(baseDir, config.reportsDir)), cwd, options);
}
