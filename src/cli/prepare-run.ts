import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { loadConfig } from '../config/load-config.ts';
import { ConformError } from '../core/errors.ts';
import { createRunId } from '../core/ids.ts';
import type { BackendConfig, ConformConfig, Suite } from '../core/types.ts';
import { ensureFixtureModel } from '../engine/fixture-model/ensure-fixture-model.ts';
import { loadRequestedSuites } from '../suites/load-suites.ts';
import type { CliContext } from './context.ts';

export interface PreparedRun {
  config: ConformConfig;
  baseDir: string;
  backends: BackendConfig[];
  suites: Suite[];
  modelPath: string;
  apiKeys: Record<string, string | undefined>;
  runId: string;
  runDir: string;
  startedAt: Date;
}

export const SELECTION_FLAGS = {
  backend: { type: 'string', multiple: true },
  suite: { type: 'string', multiple: true },
  config: { type: 'string' },
} as const;

/** Picks backends by name, naming the known ones when a name is wrong. */
function selectBackends(config: ConformConfig, names: string[]): BackendConfig[] {
  if (names.length === 0) return config.backends;
  return names.map((name) => {
    const backend = config.backends.find((b) => b.name === name);
    if (!backend) throw new ConformError('USAGE', `--backend "${name}" is not configured; known backends: ${config.backends.map((b) => b.name).join(', ')}`);
    return backend;
  });
}

/** Everything a run needs before it touches a backend; all config and usage errors surface here, before anything starts. */
export async function prepareRun(values: { backend?: string[]; suite?: string[]; config?: string }, ctx: CliContext, needSuites = true): Promise<PreparedRun> {
  const { config, baseDir } = await loadConfig(ctx.cwd, values.config);
  const backends = selectBackends(config, values.backend ?? []);
  const suites = needSuites ? loadRequestedSuites(config.suites, baseDir, values.suite ?? []) : [];
  const apiKeys: Record<string, string | undefined> = {};
  for (const backend of backends) {
    if (!backend.apiKeyEnv) continue;
    apiKeys[backend.name] = ctx.env[backend.apiKeyEnv];
    if (!apiKeys[backend.name]) throw new ConformError('CONFIG_INVALID', `backend "${backend.name}" reads its API key from $${backend.apiKeyEnv}, which is not set`);
  }
  const needsModel = backends.some((b) => b.launch?.args.some((a) => a.includes('{model}')));
  const modelPath = !needsModel ? '' : config.modelPath && config.modelPath !== '{fixture}' ? resolve(baseDir, config.modelPath) : (await ensureFixtureModel(resolve(baseDir, config.cacheDir))).path;
  const startedAt = new Date();
  const runId = createRunId(startedAt, randomBytes(4).toString('hex'));
  return { config, baseDir, backends, suites, modelPath, apiKeys, runId, runDir: resolve(baseDir, config.reportsDir, runId), startedAt };
}

/** Ctrl-C stops launched backends and keeps what was already recorded; a second Ctrl-C exits at once. */
export function interruptSignal(ctx: CliContext): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    ctx.err('Interrupted: stopping backends and writing what was recorded (Ctrl-C again to exit now)');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  return { signal: controller.signal, dispose: () => (process.off('SIGINT', onSigint), process.off('SIGTERM', onSigint)) };
}
