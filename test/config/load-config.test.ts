import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/default-config.ts';
import { defineConfig } from '../../src/config/define-config.ts';
import { loadConfig, validateConfig } from '../../src/config/load-config.ts';
import { ConformError } from '../../src/core/errors.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const lines = (...l: string[]) => `${l.join('\n')}\n`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'conform-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function rejection(promise: Promise<unknown>): Promise<ConformError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConformError);
  expect((error as ConformError).code).toBe('CONFIG_INVALID');
  expect((error as ConformError).message).not.toContain('\n');
  return error as ConformError;
}

/** Writes a YAML config with one backend built from `backend` lines (indented under "- "), and loads it. */
function writeYaml(...backendLines: string[]): string {
  const file = join(dir, 'conform.config.yaml');
  writeFileSync(file, lines('backends:', ...backendLines.map((l, i) => (i === 0 ? `  - ${l}` : `    ${l}`))));
  return file;
}

describe('loadConfig', () => {
  it('falls back to the built-in default (cpu, cpu-q8 and vulkan) when there is no config file', async () => {
    const loaded = await loadConfig(dir);
    expect(loaded.file).toBeUndefined();
    expect(loaded.baseDir).toBe(dir);
    expect(loaded.config).toBe(DEFAULT_CONFIG);
    expect(loaded.config.backends.map((b) => b.name)).toEqual(['cpu', 'cpu-q8', 'vulkan']);
    expect(loaded.config.backends.map((b) => b.class)).toEqual(['cpu', 'cpu-q8', 'software-gpu']);
    expect(loaded.config.reference).toBe('cpu');
    expect(loaded.config.suites).toEqual(['suites/*.yaml']);
  });

  it('validates a YAML config and fills in defaults', async () => {
    const file = join(dir, 'conform.config.yaml');
    writeFileSync(
      file,
      lines(
        'backends:',
        '  - { name: cpu, class: cpu, model: tiny, launch: { command: conform, args: [serve] } }',
        '  - name: rocm',
        '    class: rocm',
        '    model: my-model',
        '    baseUrl: http://gpu-box:8000/v1',
        '    apiKeyEnv: ROCM_API_KEY',
        '    tolerance: { topK: 12 }',
        'reference: cpu',
        'suites: [more/*.yaml]',
      ),
    );
    const loaded = await loadConfig(dir);
    expect(loaded.file).toBe(file);
    expect(loaded.baseDir).toBe(dir);
    expect(loaded.config.backends.map((b) => b.name)).toEqual(['cpu', 'rocm']);
    expect(loaded.config.backends[1]).toMatchObject({ baseUrl: 'http://gpu-box:8000/v1', apiKeyEnv: 'ROCM_API_KEY', tolerance: { topK: 12 } });
    expect(loaded.config.suites).toEqual(['more/*.yaml']);
    expect(loaded.config.goldenDir).toBe('golden');
    expect(loaded.config.reportsDir).toBe('reports');
  });

  it('loads an explicit path relative to cwd and takes its folder as baseDir', async () => {
    const sub = join(dir, 'ci');
    mkdirSync(sub);
    writeFileSync(join(sub, 'matrix.json'), JSON.stringify({ backends: [{ name: 'a', class: 'gpu', model: 'm', baseUrl: 'https://x/v1' }] }));
    const loaded = await loadConfig(dir, 'ci/matrix.json');
    expect(loaded.baseDir).toBe(sub);
    expect(loaded.config.backends[0]!.name).toBe('a');
  });

  it('is CONFIG_INVALID for an explicit path that does not exist', async () => {
    const e = await rejection(loadConfig(dir, 'missing.yaml'));
    expect(e.message).toBe('--config missing.yaml: no such file');
  });

  it('rejects a backend without a model, naming the file', async () => {
    const file = writeYaml('name: cpu', 'class: cpu', 'baseUrl: http://localhost:8080/v1');
    const e = await rejection(loadConfig(dir));
    expect(e.message).toMatch(new RegExp(`^${file.replace(/[.\\]/g, '\\$&')}: /backends/0 must have required property 'model'$`));
  });

  it('rejects a backend with both baseUrl and launch', async () => {
    const file = writeYaml('name: cpu', 'class: cpu', 'model: m', 'baseUrl: http://localhost:8080/v1', 'launch: { command: conform, args: [] }');
    const e = await rejection(loadConfig(dir));
    expect(e.message).toBe(`${file}: /backends/0 needs either baseUrl (a server you run, e.g. "http://gpu-box:8000/v1") or launch (a command conform starts), not both`);
  });

  it('rejects a backend with neither baseUrl nor launch', async () => {
    const file = writeYaml('name: cpu', 'class: cpu', 'model: m');
    const e = await rejection(loadConfig(dir));
    expect(e.message).toBe(`${file}: /backends/0 needs either baseUrl (a server you run, e.g. "http://gpu-box:8000/v1") or launch (a command conform starts), not both`);
  });

  it('rejects an apiKeyEnv that is not an environment variable name', async () => {
    const file = writeYaml('name: remote', 'class: gpu', 'model: m', 'baseUrl: https://api.example/v1', 'apiKeyEnv: sk-my-secret-key');
    const e = await rejection(loadConfig(dir));
    expect(e.message.startsWith(`${file}: /backends/0/apiKeyEnv must match pattern`)).toBe(true);
    expect(e.message).toContain('(got "sk-my-secret-key")');
  });

  it('rejects two backends with one name, pointing at the second', async () => {
    const file = join(dir, 'conform.config.yaml');
    writeFileSync(
      file,
      lines('backends:', '  - { name: gpu, class: gpu, model: m, baseUrl: "http://a/v1" }', '  - { name: gpu, class: gpu, model: m, baseUrl: "http://b/v1" }'),
    );
    const e = await rejection(loadConfig(dir));
    expect(e.message).toBe(`${file}: /backends/1/name "gpu" is used twice`);
  });

  it('rejects an unknown top-level key, naming it', async () => {
    const file = join(dir, 'conform.config.yaml');
    writeFileSync(file, lines('backends:', '  - { name: a, class: gpu, model: m, baseUrl: "http://a/v1" }', 'refrence: a'));
    const e = await rejection(loadConfig(dir));
    expect(e.message).toBe(`${file}: / must NOT have additional properties: "refrence"`);
  });

  it('reports a file that cannot be parsed as CONFIG_INVALID naming the file', async () => {
    const file = join(dir, 'conform.config.json');
    writeFileSync(file, '{ "backends": [ }');
    const e = await rejection(loadConfig(dir));
    expect(e.message.startsWith(`${file}: could not be read:`)).toBe(true);
  });

  it('loads a .ts config written with defineConfig', async () => {
    const file = join(dir, 'conform.config.ts');
    const defineConfigUrl = pathToFileURL(join(ROOT, 'src', 'config', 'define-config.ts')).href;
    writeFileSync(
      file,
      lines(
        `import { defineConfig } from ${JSON.stringify(defineConfigUrl)};`,
        'const port: number = 8081;',
        'export default defineConfig({',
        "  backends: [{ name: 'local', class: 'cpu', model: 'tiny', baseUrl: `http://127.0.0.1:${port}/v1` }],",
        "  reference: 'local',",
        '});',
      ),
    );
    const loaded = await loadConfig(dir);
    expect(loaded.file).toBe(file);
    expect(loaded.config.backends).toEqual([{ name: 'local', class: 'cpu', model: 'tiny', baseUrl: 'http://127.0.0.1:8081/v1' }]);
    expect(loaded.config.reference).toBe('local');
    expect(loaded.config.modelPath).toBe('{fixture}');
  });

  it('finds conform.config.mts, for CommonJS projects that keep ES-module syntax in .mts files', async () => {
    writeFileSync(join(dir, 'conform.config.mts'), "const port: number = 9;\nexport default { backends: [{ name: 'mts', class: 'cpu', model: 'm', baseUrl: `http://x:${port}/v1` }] };\n");
    const loaded = await loadConfig(dir);
    expect(loaded.file).toBe(join(dir, 'conform.config.mts'));
    expect(loaded.config.backends[0]!.baseUrl).toBe('http://x:9/v1');
  });

  it('prefers conform.config.ts over a YAML config in the same folder', async () => {
    writeFileSync(join(dir, 'conform.config.ts'), "export default { backends: [{ name: 'from-ts', class: 'cpu', model: 'm', baseUrl: 'http://x/v1' }] };\n");
    writeFileSync(join(dir, 'conform.config.yaml'), lines('backends:', '  - { name: from-yaml, class: cpu, model: m, baseUrl: "http://x/v1" }'));
    expect((await loadConfig(dir)).config.backends[0]!.name).toBe('from-ts');
  });
});

describe('validateConfig and defineConfig', () => {
  it('defineConfig is the identity', () => {
    const config = { backends: [{ name: 'a', class: 'gpu', model: 'm', baseUrl: 'http://a/v1' }] };
    expect(defineConfig(config)).toBe(config);
  });

  it('the built-in default validates against the published schema', () => {
    expect(validateConfig(structuredClone(DEFAULT_CONFIG), 'default')).toEqual(DEFAULT_CONFIG);
  });

  it('rejects a config without backends, and one with an empty list', () => {
    expect(() => validateConfig({}, 'c.yaml')).toThrow(/^c\.yaml: \/ must have required property 'backends'$/);
    expect(() => validateConfig({ backends: [] }, 'c.yaml')).toThrow(/^c\.yaml: \/backends must NOT have fewer than 1 items$/);
  });

  it('rejects a bad tolerance and a bad backend name', () => {
    expect(() => validateConfig({ backends: [{ name: 'a', class: 'gpu', model: 'm', baseUrl: 'http://a/v1', tolerance: { topK: 0 } }] }, 'c')).toThrow(
      /\/backends\/0\/tolerance\/topK must be >= 1/,
    );
    expect(() => validateConfig({ backends: [{ name: 'My GPU', class: 'gpu', model: 'm', baseUrl: 'http://a/v1' }] }, 'c')).toThrow(/\/backends\/0\/name must match pattern/);
  });
});

describe('presets', () => {
  it('the config schema offers exactly the presets conform knows', async () => {
    const { PRESETS } = await import('../../src/runners/presets.ts');
    const { readFileSync } = await import('node:fs');
    const schema = JSON.parse(readFileSync(new URL('../../schemas/config.schema.json', import.meta.url), 'utf8'));
    expect([...schema.definitions.backend.properties.preset.enum].sort()).toEqual([...PRESETS.keys()].sort());
  });
});
