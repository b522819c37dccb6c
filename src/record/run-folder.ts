import { constants } from 'node:buffer';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { loadConfig } from '../config/load-config.ts';
import { ConformError } from '../core/errors.ts';
import { validateRunSummary } from '../core/merge.ts';
import type { RunSummary } from '../core/types.ts';

// Run folders are read by report, merge, gate and badge alike; one reader keeps their errors the same.

/** A run on disk: its summary and the folder it lives in. */
export interface RunOnDisk {
  summary: RunSummary;
  file: string;
  dir: string;
}

/** A run folder (holding summary.json) or a summary file; relative paths are taken from cwd. */
export function readRunSummary(path: string, cwd: string): RunOnDisk {
  const target = resolve(cwd, path);
  if (!existsSync(target)) throw new ConformError('RECORD_INVALID', `${path}: no such run folder`);
  const file = statSync(target).isDirectory() ? join(target, 'summary.json') : target;
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
  return { summary: validateRunSummary(raw, relative(cwd, file) || file), file, dir: dirname(file) };
}

/** The run folder under reportsDir whose summary.json was written last (ties: the greater name). */
export function newestRunFolder(reportsDir: string): string {
  const candidates = existsSync(reportsDir)
    ? readdirSync(reportsDir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory() && existsSync(join(reportsDir, entry.name, 'summary.json')))
        .map((entry) => ({ dir: join(reportsDir, entry.name), mtime: statSync(join(reportsDir, entry.name, 'summary.json')).mtimeMs }))
    : [];
  candidates.sort((a, b) => b.mtime - a.mtime || (a.dir < b.dir ? 1 : a.dir > b.dir ? -1 : 0));
  if (!candidates[0]) throw new ConformError('RECORD_INVALID', `${reportsDir}: no run folder with a summary.json; run "conform run" first or name a run folder`);
  return candidates[0].dir;
}

/** The positional run folder, or the newest under the config's reportsDir. */
export async function runFolderOrNewest(path: string | undefined, cwd: string, configFile?: string): Promise<RunOnDisk> {
  if (path) return readRunSummary(path, cwd);
  const { config, baseDir } = await loadConfig(cwd, configFile);
  return readRunSummary(newestRunFolder(resolve(baseDir, config.reportsDir)), cwd);
}
