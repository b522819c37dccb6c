import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { BUNDLED_SUITES_DIR } from '../config/package-files.ts';
import { ConformError } from '../core/errors.ts';
import type { Suite } from '../core/types.ts';
import { parseSuite } from './parse-suite.ts';

/** Translates a glob with `*`, `?` and `**` into a RegExp over forward-slash paths. */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      source += '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

function listFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.sort().flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

/** The prefix naming a suite shipped with conform, in a config's `suites` and in `--suite`: `conform:smoke`, `conform:*`. */
export const BUNDLED_PREFIX = 'conform:';

/** The names of the suites shipped with conform, sorted. */
export function bundledSuiteNames(): string[] {
  return listFiles(BUNDLED_SUITES_DIR)
    .filter((file) => file.endsWith('.yaml'))
    .map((file) => basename(file, '.yaml'))
    .sort();
}

const bundledList = () => bundledSuiteNames().map((name) => BUNDLED_PREFIX + name).join(', ');

/** The bundled suite files a `conform:<glob>` reference names; naming none is an error that lists them. */
function bundledFiles(reference: string): string[] {
  const regex = globToRegExp(reference.slice(BUNDLED_PREFIX.length));
  const names = bundledSuiteNames().filter((name) => regex.test(name));
  if (names.length === 0) throw new ConformError('CONFIG_INVALID', `"${reference}" names no suite bundled with conform; bundled suites: ${bundledList()}`);
  return names.map((name) => join(BUNDLED_SUITES_DIR, `${name}.yaml`));
}

/** Where a suite file is shown: relative to the config's folder when inside it, absolute otherwise. */
function shownPath(file: string, baseDir: string): string {
  const rel = relative(baseDir, file);
  return rel.startsWith('..') || isAbsolute(rel) ? file : rel.split('\\').join('/');
}

/**
 * Finds suite files by glob (relative to baseDir) or by bundled name (`conform:smoke`), reads and
 * validates them, sorted by path for stable plans. A file named twice is loaded once.
 */
export function loadSuites(patterns: string[], baseDir: string): Suite[] {
  // Keyed by absolute path; the value is how the file is shown and whether it was named as bundled.
  const files = new Map<string, { shown: string; bundled: boolean }>();
  for (const pattern of patterns) {
    if (pattern.startsWith(BUNDLED_PREFIX)) {
      for (const file of bundledFiles(pattern)) files.set(file, { shown: shownPath(file, baseDir), bundled: true });
      continue;
    }
    // Absolute patterns match absolute paths; relative ones match paths relative to the config.
    const absolute = isAbsolute(pattern);
    const staticPrefix = pattern.split(/[*?]/)[0]!.replace(/[^/]*$/, '');
    const regex = globToRegExp(pattern.replace(/^\.\//, ''));
    for (const file of listFiles(resolve(baseDir, staticPrefix || '.'))) {
      const shown = absolute ? file : relative(baseDir, file).split('\\').join('/');
      if (regex.test(shown) && !files.has(file)) files.set(file, { shown, bundled: false });
    }
  }
  if (files.size === 0)
    throw new ConformError(
      'CONFIG_INVALID',
      `no suite files match ${patterns.map((p) => `"${p}"`).join(', ')} under ${baseDir}; "npx conform init" writes a starter suite, and conform's own are ${bundledList()}`,
    );
  const suites = [...files]
    .sort((a, b) => (a[1].shown < b[1].shown ? -1 : a[1].shown > b[1].shown ? 1 : 0))
    .map(([file, { shown, bundled }]) => {
      const suite = parseSuite(readFileSync(file, 'utf8'), shown);
      return bundled ? { ...suite, bundled } : suite;
    });
  const names = new Map<string, string>();
  for (const suite of suites) {
    const other = names.get(suite.name);
    if (other) throw new ConformError('SUITE_INVALID', `${suite.file}: suite name "${suite.name}" is already used by ${other}`);
    names.set(suite.name, suite.file);
  }
  return suites;
}

/** Keeps the suites whose name or file matches any `--suite` glob; `conform:<glob>` matches bundled suites by name. */
export function selectSuites(suites: Suite[], globs: string[]): Suite[] {
  if (globs.length === 0) return suites;
  const matchers = globs.map((glob) => {
    if (!glob.startsWith(BUNDLED_PREFIX)) {
      const regex = globToRegExp(glob);
      return (s: Suite) => regex.test(s.name) || regex.test(s.file);
    }
    const regex = globToRegExp(glob.slice(BUNDLED_PREFIX.length));
    return (s: Suite) => s.bundled === true && regex.test(s.name);
  });
  const chosen = suites.filter((s) => matchers.some((matches) => matches(s)));
  if (chosen.length === 0) {
    const bundled = globs.filter((g) => !g.startsWith(BUNDLED_PREFIX) && bundledSuiteNames().some((name) => globToRegExp(g).test(name)));
    const hint = bundled.length ? `; did you mean ${bundled.map((g) => `--suite ${BUNDLED_PREFIX}${g}`).join(' ')}?` : `; bundled with conform: ${bundledList()}`;
    throw new ConformError('USAGE', `--suite ${globs.map((g) => `"${g}"`).join(' ')} matches no suite; known suites: ${suites.map((s) => s.name).join(', ')}${hint}`);
  }
  return chosen;
}

/**
 * The config's suites plus any bundled suite that `--suite conform:<name>` asks for, so a bundled
 * suite runs by name in any project; then the `--suite` selection.
 */
export function loadRequestedSuites(patterns: string[], baseDir: string, selection: string[]): Suite[] {
  const extra = selection.filter((glob) => glob.startsWith(BUNDLED_PREFIX) && !patterns.includes(glob));
  return selectSuites(loadSuites([...patterns, ...extra], baseDir), selection);
}
