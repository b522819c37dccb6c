import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUNDLED_GOLDEN_DIR, BUNDLED_SUITES_DIR } from '../../src/config/package-files.ts';
import { ConformError } from '../../src/core/errors.ts';
import type { GoldenFile } from '../../src/core/types.ts';
import { readSuiteGolden, writeGolden } from '../../src/record/golden-store.ts';
import { bundledSuiteNames, loadRequestedSuites, loadSuites, selectSuites } from '../../src/suites/load-suites.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHIPPED = readdirSync(join(ROOT, 'suites'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.replace(/\.yaml$/, ''))
  .sort();
const ALL = SHIPPED.map((n) => `conform:${n}`).join(', ');
const suiteText = (name: string) => `suite: ${name}\ndescription: d\ncases:\n  - id: a\n    messages: [{ role: user, content: hi }]\n    checks: [{ kind: exact }]\n`;

function caught(fn: () => unknown): ConformError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConformError);
    expect((error as ConformError).message).not.toContain('\n');
    return error as ConformError;
  }
  throw new Error('expected a ConformError');
}

// A project folder of the user's, outside conform's package: bundled suites must come from the package.
let project: string;
beforeEach(() => {
  project = mkdtempSync(join(tmpdir(), 'conform-bundled-'));
  mkdirSync(join(project, 'suites'));
  writeFileSync(join(project, 'suites', 'mine.yaml'), suiteText('mine'));
});
afterEach(() => rmSync(project, { recursive: true, force: true }));

describe('bundled suites by name', () => {
  it('are the suites shipped in the package folder', () => {
    expect(BUNDLED_SUITES_DIR).toBe(join(ROOT, 'suites/'));
    expect(bundledSuiteNames()).toEqual(SHIPPED);
    expect(SHIPPED).toContain('smoke');
  });

  it('loads conform:smoke from conform, next to the project\'s own, marked as bundled', () => {
    const suites = loadSuites(['conform:smoke', 'suites/*.yaml'], project);
    expect(suites.map((s) => [s.name, s.bundled ?? false])).toEqual([
      ['smoke', true],
      ['mine', false],
    ]);
    // Outside the project the file is shown by its absolute path, which is where it really is.
    expect(suites[0]!.file).toBe(join(ROOT, 'suites', 'smoke.yaml'));
    expect(suites[1]!.file).toBe('suites/mine.yaml');
  });

  it('takes a glob after the prefix: conform:* is every bundled suite', () => {
    expect(loadSuites(['conform:*'], project).map((s) => s.name).sort()).toEqual(SHIPPED);
    expect(loadSuites(['conform:*-c*'], project).map((s) => s.name)).toEqual(SHIPPED.filter((n) => /-c/.test(n)));
  });

  it('loads a file named both by glob and by name once, as bundled (conform\'s own clone)', () => {
    const suites = loadSuites(['suites/*.yaml', 'conform:smoke'], ROOT);
    expect(suites.filter((s) => s.name === 'smoke')).toHaveLength(1);
    expect(suites.find((s) => s.name === 'smoke')).toMatchObject({ file: 'suites/smoke.yaml', bundled: true });
    expect(suites.find((s) => s.name === 'determinism')!.bundled).toBeUndefined();
  });

  it('rejects an unknown bundled name, listing the bundled names', () => {
    const error = caught(() => loadSuites(['conform:smok'], project));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toBe(`"conform:smok" names no suite bundled with conform; bundled suites: ${ALL}`);
  });

  it('says how to get a suite when a project has none', () => {
    rmSync(join(project, 'suites'), { recursive: true });
    const error = caught(() => loadSuites(['suites/*.yaml'], project));
    expect(error.message).toBe(`no suite files match "suites/*.yaml" under ${project}; "npx conform init" writes a starter suite, and conform's own are ${ALL}`);
  });
});

describe('--suite with bundled names', () => {
  it('runs a bundled suite the config does not list', () => {
    expect(loadRequestedSuites(['suites/*.yaml'], project, ['conform:smoke']).map((s) => s.name)).toEqual(['smoke']);
    expect(loadRequestedSuites(['suites/*.yaml'], project, ['conform:smoke', 'mine']).map((s) => s.name)).toEqual(['smoke', 'mine']);
  });

  it('conform:<name> matches only bundled suites, never a project suite of the same name', () => {
    writeFileSync(join(project, 'suites', 'smoke.yaml'), suiteText('smoke'));
    const own = loadSuites(['suites/*.yaml'], project);
    expect(() => selectSuites(own, ['conform:smoke'])).toThrow(ConformError);
    expect(selectSuites(own, ['smoke']).map((s) => s.file)).toEqual(['suites/smoke.yaml']);
  });

  it('points a plain bundled name at its conform: spelling', () => {
    const error = caught(() => loadRequestedSuites(['suites/*.yaml'], project, ['smoke']));
    expect(error.code).toBe('USAGE');
    expect(error.message).toBe('--suite "smoke" matches no suite; known suites: mine; did you mean --suite conform:smoke?');
    expect(caught(() => loadRequestedSuites(['suites/*.yaml'], project, ['nope'])).message).toBe(
      `--suite "nope" matches no suite; known suites: mine; bundled with conform: ${ALL}`,
    );
  });
});

describe('golden of bundled suites', () => {
  const golden = (suite: string, backend: string): GoldenFile => ({
    schemaVersion: 1,
    suite,
    provenance: { backend, identity: {} as never, modelSha256: 'x', conformVersion: '0', recordedAt: '2026-01-01T00:00:00Z' },
    samples: {},
  });

  it('falls back to the golden shipped with conform, recorded on cpu', () => {
    const goldenDir = join(project, 'golden');
    expect(BUNDLED_GOLDEN_DIR).toBe(join(ROOT, 'golden/'));
    const found = readSuiteGolden(goldenDir, { name: 'smoke', bundled: true });
    expect(found?.suite).toBe('smoke');
    expect(found?.provenance.backend).toBe('cpu');
    expect(Object.keys(found!.samples).length).toBeGreaterThan(0);
  });

  it('lets the project\'s own golden win', () => {
    const goldenDir = join(project, 'golden');
    writeGolden(goldenDir, golden('smoke', 'my-reference'));
    expect(readSuiteGolden(goldenDir, { name: 'smoke', bundled: true })?.provenance.backend).toBe('my-reference');
  });

  it('never gives a project suite the golden of a bundled suite with its name', () => {
    expect(readSuiteGolden(join(project, 'golden'), { name: 'smoke' })).toBeUndefined();
  });
});
