import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { ConformError } from '../core/errors.ts';
import type { BackendConfig, ConformConfig } from '../core/types.ts';
import { describeError, mostSpecificError, publishedSchemaValidator, valueAtPointer } from '../suites/schema-validator.ts';
import { DEFAULT_CONFIG } from './default-config.ts';

export const CONFIG_FILES = ['conform.config.ts', 'conform.config.mts', 'conform.config.cts', 'conform.config.mjs', 'conform.config.js', 'conform.config.yaml', 'conform.config.json'];

export interface LoadedConfig {
  config: ConformConfig;
  /** The file it came from, or undefined for the built-in default. */
  file?: string;
  /** Relative paths in the config resolve against this folder. */
  baseDir: string;
}

async function readConfigFile(file: string): Promise<unknown> {
  if (/\.(ya?ml|json)$/.test(file)) return parseYaml(readFileSync(file, 'utf8'));
  // tsImport compiles the config whatever the surrounding package's module type; a config in a
  // CommonJS project comes back wrapped one level deeper. tsx is loaded only here: a YAML config,
  // or none, starts without it.
  const { tsImport } = await import('tsx/esm/api');
  const module = (await tsImport(pathToFileURL(file).href, import.meta.url)) as { default?: { default?: unknown } };
  return module.default && typeof module.default === 'object' && 'default' in module.default ? module.default.default : module.default;
}

/** Validates a raw config against the published schema and fills in defaults. */
export function validateConfig(raw: unknown, file: string): ConformConfig {
  const validate = publishedSchemaValidator('config');
  if (!validate(raw)) {
    const error = mostSpecificError(validate.errors ?? []);
    const missing = (error.params as { missingProperty?: string }).missingProperty;
    // The schema's oneOf reports only one side of the choice; say both, as the user must pick one.
    const eitherOr = error.keyword === 'oneOf' || (error.keyword === 'required' && (missing === 'baseUrl' || missing === 'launch'));
    if (eitherOr && /^\/backends\/\d+$/.test(error.instancePath))
      throw new ConformError('CONFIG_INVALID', `${file}: ${error.instancePath} needs either baseUrl (a server you run, e.g. "http://gpu-box:8000/v1") or launch (a command conform starts), not both`);
    // The same for the two ways of pricing a backend, and the two forms of metrics.
    if (/^\/backends\/\d+\/cost$/.test(error.instancePath) && ['oneOf', 'required', 'not'].includes(error.keyword))
      throw new ConformError('CONFIG_INVALID', `${file}: ${error.instancePath} needs either perHour (a machine price) or both per1kInput and per1kOutput (an API price), not both, for example { perHour: 2.5, currency: "USD" }`);
    if (/^\/backends\/\d+\/metrics$/.test(error.instancePath) && ['oneOf', 'const', 'type'].includes(error.keyword))
      throw new ConformError('CONFIG_INVALID', `${file}: ${error.instancePath} must be false (do not scrape) or an object with url and intervalMs, for example { url: "http://gpu-box:8002/metrics" }`);
    throw new ConformError('CONFIG_INVALID', `${file}: ${describeError(error, valueAtPointer(raw, error.instancePath))}`);
  }
  const config = { ...DEFAULT_CONFIG, ...(raw as Partial<ConformConfig>) } as ConformConfig;
  const names = new Set<string>();
  for (const [i, backend] of config.backends.entries()) {
    if (names.has(backend.name)) throw new ConformError('CONFIG_INVALID', `${file}: /backends/${i}/name "${backend.name}" is used twice`);
    names.add(backend.name);
    checkVariants(backend, `${file}: /backends/${i}`);
  }
  return config;
}

/** Variants substitute launch arguments, so only a launched backend has them, each named once. */
function checkVariants(backend: BackendConfig, at: string): void {
  if (!backend.variants) return;
  if (!backend.launch) throw new ConformError('CONFIG_INVALID', `${at}/variants: "${backend.name}" has no launch to vary; variants substitute launch arguments, so they need launch, not baseUrl`);
  const seen = new Set<string>();
  for (const [j, variant] of backend.variants.entries()) {
    if (seen.has(variant.name)) throw new ConformError('CONFIG_INVALID', `${at}/variants/${j}/name "${variant.name}" is used twice in backend "${backend.name}"`);
    seen.add(variant.name);
  }
}

/** Finds the config (explicit path, or the first conform.config.* in cwd), or falls back to the built-in two-backend default. */
export async function loadConfig(cwd: string, explicit?: string): Promise<LoadedConfig> {
  const file = explicit ? resolve(cwd, explicit) : CONFIG_FILES.map((name) => resolve(cwd, name)).find(existsSync);
  if (!file) return { config: DEFAULT_CONFIG, baseDir: cwd };
  if (!existsSync(file)) throw new ConformError('CONFIG_INVALID', `--config ${explicit}: no such file`);
  let raw: unknown;
  try {
    raw = await readConfigFile(file);
  } catch (error) {
    throw new ConformError('CONFIG_INVALID', `${file}: could not be read: ${(error as Error).message.split('\n')[0]!.replace(/:$/, '')}`, { cause: error });
  }
  return { config: validateConfig(raw, file), file, baseDir: dirname(file) };
}
