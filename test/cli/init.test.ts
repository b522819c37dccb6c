import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { INIT_HELP, initCommand } from '../../src/cli/commands/init.ts';
import type { CliContext } from '../../src/cli/context.ts';
import { DEFAULT_CONFIG } from '../../src/config/default-config.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { ConformError } from '../../src/core/errors.ts';
import { loadSuites } from '../../src/suites/load-suites.ts';
import { conform } from '../helpers/conform-cli.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

let dir: string;
let out: string[];
let ctx: CliContext;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'conform-init-'));
  out = [];
  ctx = { cwd: dir, env: {}, cacheDir: join(dir, '.cache'), isTTY: false, out: (l) => out.push(l), err: (l) => out.push(`ERR ${l}`) };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const read = (path: string) => readFileSync(join(dir, path), 'utf8');

async function refusal(argv: string[]): Promise<ConformError> {
  const error = await initCommand(argv, ctx).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConformError);
  expect((error as ConformError).code).toBe('USAGE');
  return error as ConformError;
}

/** The path a `yaml-language-server` line points at, resolved from the file that holds it. */
function schemaOf(path: string): string {
  const ref = /^# yaml-language-server: \$schema=(.+)$/m.exec(read(path))?.[1];
  expect(ref).toBeDefined();
  return resolve(dirname(join(dir, path)), ref!);
}

describe('conform init', () => {
  it('writes conform.config.ts and suites/example.yaml, and says what to do next', async () => {
    expect(await initCommand([], ctx)).toBe(0);
    expect(out.slice(0, 2)).toEqual(['wrote conform.config.ts', 'wrote suites/example.yaml']);
    expect(out).toContain('Next:');
    expect(out.find((l) => l.startsWith('  npx conform record'))).toContain('golden/example.json');
    expect(out.find((l) => l.startsWith('  npx conform run'))).toContain('cpu, cpu-q8 and vulkan');
    expect(read('conform.config.ts')).toContain("import { defineConfig } from 'conform/config';");
  });

  it('writes a TypeScript config that is the built-in matrix spelled out', async () => {
    await initCommand([], ctx);
    // conform/config resolves only where conform is installed (the install e2e test covers that); here, point it at the source.
    const source = pathToFileURL(join(ROOT, 'src', 'config', 'define-config.ts')).href;
    writeFileSync(join(dir, 'conform.config.ts'), read('conform.config.ts').replace("'conform/config'", JSON.stringify(source)));
    const { config, file } = await loadConfig(dir);
    expect(file).toBe(join(dir, 'conform.config.ts'));
    expect(config.backends).toEqual(DEFAULT_CONFIG.backends);
    expect(config.suites).toEqual(['suites/*.yaml']);
    expect(config.reference).toBe('cpu');
  });

  it('--yaml writes the same config as YAML, with its schema line pointing at conform\'s own schema', async () => {
    expect(await initCommand(['--yaml'], ctx)).toBe(0);
    expect(out[0]).toBe('wrote conform.config.yaml');
    expect(existsSync(join(dir, 'conform.config.ts'))).toBe(false);
    const { config } = await loadConfig(dir);
    expect(config.backends).toEqual(DEFAULT_CONFIG.backends);
    expect(config.suites).toEqual(DEFAULT_CONFIG.suites);
    expect(schemaOf('conform.config.yaml')).toBe(join(ROOT, 'schemas', 'config.schema.json'));
  });

  it('writes a valid starter suite whose tool arguments are all bounded', async () => {
    await initCommand([], ctx);
    const [suite] = loadSuites(['suites/*.yaml'], dir);
    expect(suite!.name).toBe('example');
    expect(suite!.cases.map((c) => c.id)).toEqual(['chat-hello', 'chat-stream', 'tool-call']);
    expect(schemaOf('suites/example.yaml')).toBe(join(ROOT, 'schemas', 'suite.schema.json'));
    // A random model never closes an unbounded string: every string argument needs enum or maxLength.
    for (const c of suite!.cases)
      for (const tool of (c.params.tools ?? []) as unknown as Array<{ function: { parameters: { properties: Record<string, Record<string, unknown>> } } }>)
        for (const prop of Object.values(tool.function.parameters.properties))
          if (prop.type === 'string') expect(prop.enum ?? prop.maxLength).toBeDefined();
  });

  it('refuses to overwrite, naming the files, and writes nothing', async () => {
    await initCommand([], ctx);
    writeFileSync(join(dir, 'conform.config.ts'), 'mine');
    const error = await refusal([]);
    expect(error.message).toBe('conform.config.ts and suites/example.yaml already exist; nothing written. --force overwrites them');
    expect(read('conform.config.ts')).toBe('mine');
  });

  it('refuses when only the suite exists, and leaves the config unwritten', async () => {
    await initCommand([], ctx);
    rmSync(join(dir, 'conform.config.ts'));
    const error = await refusal([]);
    expect(error.message).toBe('suites/example.yaml already exists; nothing written. --force overwrites it');
    expect(existsSync(join(dir, 'conform.config.ts'))).toBe(false);
  });

  it('--force overwrites both', async () => {
    await initCommand([], ctx);
    writeFileSync(join(dir, 'conform.config.ts'), 'mine');
    writeFileSync(join(dir, 'suites', 'example.yaml'), 'mine');
    expect(await initCommand(['--force'], ctx)).toBe(0);
    expect(read('conform.config.ts')).toContain('defineConfig');
    expect(read('suites/example.yaml')).toContain('suite: example');
  });

  it('refuses, even with --force, next to a config of another kind that would shadow or be shadowed', async () => {
    writeFileSync(join(dir, 'conform.config.yaml'), 'backends: []\n');
    const error = await refusal(['--force']);
    expect(error.message).toBe('conform.config.yaml already configures this folder; edit it, or remove it and run conform init again');
    expect(existsSync(join(dir, 'conform.config.ts'))).toBe(false);
  });

  it('--help prints the usage and writes nothing', async () => {
    expect(await initCommand(['--help'], ctx)).toBe(0);
    expect(out).toEqual([INIT_HELP]);
    expect(existsSync(join(dir, 'conform.config.ts'))).toBe(false);
  });

  it('says how to deal with npm 11\'s allowScripts list until the project has decided on both packages', async () => {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', allowScripts: { esbuild: false } }));
    await initCommand([], ctx);
    expect(out.at(-1)).toContain('npm install-scripts deny esbuild node-llama-cpp');
    rmSync(join(dir, 'conform.config.ts'));
    rmSync(join(dir, 'suites'), { recursive: true });
    out.length = 0;
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', allowScripts: { esbuild: false, 'node-llama-cpp@3.21.1': true } }));
    await initCommand([], ctx);
    expect(out.join('\n')).not.toContain('install-scripts deny');
  });

  it('exits 2 with one line through the real binary when it would overwrite', async () => {
    writeFileSync(join(dir, 'conform.config.ts'), 'mine');
    const result = await conform(['init'], { cwd: dir, timeout: 60_000 });
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim()).toBe('conform init: conform.config.ts already exists; nothing written. --force overwrites it');
  });
});
