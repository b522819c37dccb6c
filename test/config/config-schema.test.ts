import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load-config.ts';
import { ConformError } from '../../src/core/errors.ts';
import { REPO } from '../helpers/conform-cli.ts';

const TYPES = readFileSync(join(REPO, 'src', 'core', 'types.ts'), 'utf8');
const SCHEMA = JSON.parse(readFileSync(join(REPO, 'schemas', 'config.schema.json'), 'utf8')) as {
  properties: Record<string, unknown>;
  definitions: { backend: { properties: Record<string, { properties?: Record<string, unknown> }> } };
};

/** The member names of one interface in src/core/types.ts, as a reader of the code sees them. */
function fieldsOf(name: string): string[] {
  const body = new RegExp(`export interface ${name} \\{\\n([\\s\\S]*?)\\n\\}`).exec(TYPES)?.[1];
  if (!body) throw new Error(`interface ${name} not found in src/core/types.ts`);
  return [...body.matchAll(/^ {2}(\w+)\??:/gm)].map((m) => m[1]!);
}

// One valid value for every field a backend may set: what the code reads, the schema must accept.
const EVERY_BACKEND_FIELD = {
  name: 'ls-cpu',
  baseUrl: 'http://127.0.0.1:8080/v1',
  model: 'conform-tiny',
  class: 'cpu',
  apiKeyEnv: 'LS_API_KEY',
  concurrency: 1,
  requestTimeoutMs: 120_000,
  connectTimeoutMs: 10_000,
  firstByteTimeoutMs: 60_000,
  firstTokenTimeoutMs: 90_000,
  idleTimeoutMs: 30_000,
  maxResponseBytes: 8 * 1024 * 1024,
  maxRetries: 3,
  preset: 'llama-cpp',
  maxPromptTokens: 8192,
  tolerance: { topK: 5, divergenceLogprobGap: 0.25, prefixLogprobDelta: 0.1 },
  cost: { perHour: 2.5, currency: 'USD', note: 'example price' },
  power: { source: 'rapl', pue: 1.2, pricePerKWh: 0.3 },
  metrics: { url: 'http://127.0.0.1:8080/metrics', intervalMs: 250 },
  labels: { region: 'eu-west' },
};
const EVERY_VARIANT_FIELD = {
  name: 'fa-off',
  description: 'flash attention off',
  set: { '--flash-attention': 'off' },
  append: ['--batch-size', '128'],
  env: { GGML_VK_VISIBLE_DEVICES: '0' },
  class: 'cpu',
  tolerance: { topK: 6 },
};
const EVERY_LAUNCH_FIELD = { command: 'conform', args: ['serve', '--port', '{port}'], env: { GGML_VK_VISIBLE_DEVICES: '0' }, readyTimeoutMs: 300_000 };

function rejection(raw: unknown): string {
  try {
    validateConfig(raw, 'conform.config.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConformError);
    expect((error as ConformError).code).toBe('CONFIG_INVALID');
    expect((error as Error).message).not.toContain('\n');
    return (error as Error).message;
  }
  throw new Error('the config was accepted');
}

describe('config schema against the config types', () => {
  it('names every field of BackendConfig, LaunchConfig and ConformConfig', () => {
    const backend = SCHEMA.definitions.backend.properties;
    expect(Object.keys(backend).sort()).toEqual(fieldsOf('BackendConfig').sort());
    expect(Object.keys(backend.launch!.properties!).sort()).toEqual(fieldsOf('LaunchConfig').sort());
    expect(Object.keys(SCHEMA.properties).sort()).toEqual(fieldsOf('ConformConfig').sort());
    expect(Object.keys(backend.tolerance!.properties!).sort()).toEqual(fieldsOf('Tolerance').sort());
    const variant = (SCHEMA.definitions as unknown as Record<string, { properties: Record<string, unknown> }>).variant!;
    expect(Object.keys(variant.properties).sort()).toEqual(fieldsOf('VariantConfig').sort());
  });

  it('accepts a backend that sets every documented field, maxPromptTokens included', () => {
    // launch and variants go on the launched backend: a baseUrl backend has no launch to vary.
    expect(Object.keys(EVERY_BACKEND_FIELD).sort()).toEqual(fieldsOf('BackendConfig').filter((f) => f !== 'launch' && f !== 'variants').sort());
    const config = validateConfig(
      {
        backends: [EVERY_BACKEND_FIELD, { name: 'cpu', class: 'cpu', model: 'conform-tiny', launch: EVERY_LAUNCH_FIELD, variants: [EVERY_VARIANT_FIELD] }],
        suites: ['suites/*.yaml'],
        goldenDir: 'golden',
        reportsDir: 'reports',
        reference: 'cpu',
        cacheDir: '.cache/conform',
        modelPath: '{fixture}',
        release: 'v1.0.0',
      },
      'conform.config.yaml',
    );
    expect(config.backends[0]!.maxPromptTokens).toBe(8192);
  });

  it('rejects an unknown backend field with a one-line message naming the file, the backend and the key', () => {
    const message = rejection({ backends: [{ ...EVERY_BACKEND_FIELD, maxPromptToken: 8192 }] });
    expect(message).toBe('conform.config.yaml: /backends/0 must NOT have additional properties: "maxPromptToken"');
  });

  it('accepts variants only on a launched backend, each named once and by a file-safe name', () => {
    const launched = { name: 'cpu', class: 'cpu', model: 'conform-tiny', launch: EVERY_LAUNCH_FIELD };
    expect(rejection({ backends: [{ ...EVERY_BACKEND_FIELD, variants: [{ name: 'fa-off' }] }] })).toBe(
      'conform.config.yaml: /backends/0/variants: "ls-cpu" has no launch to vary; variants substitute launch arguments, so they need launch, not baseUrl',
    );
    expect(rejection({ backends: [{ ...launched, variants: [{ name: 'a' }, { name: 'a' }] }] })).toBe('conform.config.yaml: /backends/0/variants/1/name "a" is used twice in backend "cpu"');
    expect(rejection({ backends: [{ ...launched, variants: [{ name: 'fa@off' }] }] })).toMatch(/^conform\.config\.yaml: \/backends\/0\/variants\/0\/name must match pattern/);
    expect(rejection({ backends: [{ ...launched, variants: [{ name: 'x', set: { threads: '2' } }] }] })).toMatch(/\/backends\/0\/variants\/0\/set/);
  });

  it('rejects a maxPromptTokens that is not a positive integer, quoting it', () => {
    expect(rejection({ backends: [{ ...EVERY_BACKEND_FIELD, maxPromptTokens: 0 }] })).toBe('conform.config.yaml: /backends/0/maxPromptTokens must be >= 1 (got 0)');
    expect(rejection({ backends: [{ ...EVERY_BACKEND_FIELD, maxPromptTokens: '8k' }] })).toBe('conform.config.yaml: /backends/0/maxPromptTokens must be integer (got "8k")');
  });
});
