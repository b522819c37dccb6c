// Where the manifest commands read and write: manifests/<release>/manifest.json, its DSSE envelope
// beside it, and manifests/history.json; every write goes through a temporary file and a rename.

import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { loadConfig, type LoadedConfig } from '../../config/load-config.ts';
import { ConformError } from '../../core/errors.ts';
import { validateHistory, type PlanHistory } from '../../manifest/history.ts';
import { MANIFEST_SCHEMA_VERSION, type ReleaseManifest } from '../../manifest/types.ts';
import type { CliContext } from '../context.ts';
import { gitLine } from './gate.ts';

export const MANIFESTS_DIR = 'manifests';

/** Release as badges name it: --release, the config's, the newest git tag, else "unknown". */
export async function resolveRelease(flag: string | undefined, loaded: LoadedConfig, ctx: CliContext): Promise<string> {
  const release = flag?.trim() || loaded.config.release?.trim() || (await gitLine(['describe', '--tags', '--abbrev=0'], ctx)) || 'unknown';
  if (!/^[\w.+-]+$/.test(release)) throw new ConformError('USAGE', `release "${release}" cannot name a folder; use letters, digits, ".", "+", "-" or "_", for example --release v1.2.0`);
  return release;
}

/** The manifest file: --manifest as given, else manifests/<release>/manifest.json beside the config. */
export async function manifestPath(values: { manifest?: string; release?: string; config?: string }, ctx: CliContext): Promise<{ file: string; loaded: LoadedConfig; release: string }> {
  const loaded = await loadConfig(ctx.cwd, values.config);
  const release = await resolveRelease(values.release, loaded, ctx);
  const file = values.manifest ? resolve(ctx.cwd, values.manifest) : join(loaded.baseDir, MANIFESTS_DIR, release, 'manifest.json');
  return { file, loaded, release };
}

/** What to say when the manifest of a release is not there: the releases that do have one, and how to pick one. */
export function missingManifestHint(file: string, ctx: CliContext): string {
  const dir = dirname(dirname(file));
  let releases: string[] = [];
  try {
    releases = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'manifest.json'))).map((e) => e.name).sort();
  } catch {
    // no manifests folder at all
  }
  if (releases.length === 0) return '; write one with "conform manifest" first';
  return `; ${shown(dir, ctx)} has ${releases.map((r) => `"${r}"`).join(', ')}: give --release ${releases.at(-1)} or --manifest <file>`;
}

/** The envelope of a manifest: manifest.json → manifest.dsse.json beside it. */
export const envelopePath = (manifestFile: string): string => join(dirname(manifestFile), `${basename(manifestFile, '.json')}.dsse.json`);

export const shown = (file: string, ctx: CliContext): string => relative(ctx.cwd, file) || file;

/** Writes text through a temporary file and a rename, so a reader never sees half a file. */
export function writeAtomically(file: string, text: string, mode?: number): void {
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  // The mode is set at creation, so a private key is never readable by others even for a moment.
  writeFileSync(temp, text, mode === undefined ? undefined : { mode });
  renameSync(temp, file);
}

/** A JSON file's value, naming the file when it is missing or not JSON. */
export function readJson(file: string, ctx: CliContext, what: string): unknown {
  if (!existsSync(file)) throw new ConformError('USAGE', `${shown(file, ctx)}: no such file (${what})`);
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConformError('RECORD_INVALID', `${shown(file, ctx)}: not valid JSON (${(error as Error).message.split('\n')[0]})`, { cause: error });
  }
}

/** A manifest written by conform manifest, or a one-line error naming the file. */
export function readManifest(file: string, ctx: CliContext): ReleaseManifest {
  const raw = readJson(file, ctx, 'write one with "conform manifest"') as Partial<ReleaseManifest> | null;
  if (!raw || raw.schemaVersion !== MANIFEST_SCHEMA_VERSION || !Array.isArray(raw.backends) || typeof raw.runId !== 'string')
    throw new ConformError('RECORD_INVALID', `${shown(file, ctx)}: not a conform manifest (schemaVersion ${MANIFEST_SCHEMA_VERSION} with runId and backends)`);
  return raw as ReleaseManifest;
}

/** The plan history, or undefined when none was written yet. */
export function readHistory(file: string, ctx: CliContext): PlanHistory | undefined {
  if (!existsSync(file)) return undefined;
  const checked = validateHistory(readJson(file, ctx, 'plan history'), shown(file, ctx));
  if (typeof checked === 'string') throw new ConformError('RECORD_INVALID', `${checked}; fix or delete it to start a new history`);
  return checked;
}

export const jsonText = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;
