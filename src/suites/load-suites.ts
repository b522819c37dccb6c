import { readFileSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
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

/** Finds suite files by glob (relative to baseDir), reads and validates them, sorted by path for stable plans. */
export function loadSuites(patterns: string[], baseDir: string): Suite[] {
  const files = new Set<string>();
  for (const pattern of patterns) {
    // Absolute patterns match absolute paths; relative ones match paths relative to the config.
    const absolute = isAbsolute(pattern);
    const staticPrefix = pattern.split(/[*?]/)[0]!.replace(/[^/]*$/, '');
    const regex = globToRegExp(pattern.replace(/^\.\//, ''));
    for (const file of listFiles(resolve(baseDir, staticPrefix || '.'))) {
      const shown = absolute ? file : relative(baseDir, file).split('\\').join('/');
      if (regex.test(shown)) files.add(shown);
    }
  }
  if (files.size === 0) throw new ConformError('CONFIG_INVALID', `no suite files match ${patterns.map((p) => `"${p}"`).join(', ')} under ${baseDir}`);
  const suites = [...files].sort().map((file) => parseSuite(readFileSync(resolve(baseDir, file), 'utf8'), file));
  const names = new Map<string, string>();
  for (const suite of suites) {
    const other = names.get(suite.name);
    if (other) throw new ConformError('SUITE_INVALID', `${suite.file}: suite name "${suite.name}" is already used by ${other}`);
    names.set(suite.name, suite.file);
  }
  return suites;
}

/** Keeps the suites whose name or file matches any `--suite` glob. */
export function selectSuites(suites: Suite[], globs: string[]): Suite[] {
  if (globs.length === 0) return suites;
  const regexes = globs.map(globToRegExp);
  const chosen = suites.filter((s) => regexes.some((r) => r.test(s.name) || r.test(s.file)));
  if (chosen.length === 0)
    throw new ConformError('USAGE', `--suite ${globs.map((g) => `"${g}"`).join(' ')} matches no suite; known suites: ${suites.map((s) => s.name).join(', ')}`);
  return chosen;
}
