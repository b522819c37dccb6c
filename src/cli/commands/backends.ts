import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { EXIT } from '../../core/errors.ts';
import type { BackendConfig, BackendIdentity } from '../../core/types.ts';
import { launchBackend } from '../../launch/launch-backend.ts';
import { assumedContextSize, presetOf } from '../../runners/presets.ts';
import { createOpenAiHttpRunner } from '../../runners/openai-http-runner.ts';
import { probeIdentity } from '../../runners/probe-identity.ts';
import { probeFeatures, type FeatureProbe } from '../../run/probe-features.ts';
import { parseCommandArgs } from '../args.ts';
import type { CliContext } from '../context.ts';
import { interruptSignal, prepareRun } from '../prepare-run.ts';

export const BACKENDS_HELP = `conform backends [--backend <name>]... [--json] [--config <file>]

Lists the configured backends and probes each one (launching those with a launch command):
reachable or not, model, engine and version, device, and what it really supports: logprobs,
tools, a named tool_choice, streamed tool calls, json_schema.`;

export interface BackendProbe {
  name: string;
  preset?: string;
  reachable: boolean;
  reason?: string;
  identity: BackendIdentity;
  features?: FeatureProbe;
}

async function probeOne(backend: BackendConfig, modelPath: string, apiKey: string | undefined, ctx: CliContext, signal: AbortSignal): Promise<BackendProbe> {
  const preset = presetOf(backend);
  let baseUrl = backend.baseUrl;
  let stop: (() => Promise<void>) | undefined;
  if (backend.launch) {
    const logFile = join(tmpdir(), `conform-backends-${process.pid}-${backend.name}.log`);
    const outcome = await launchBackend(backend, { modelPath, logFile, env: ctx.env, signal, healthPath: preset?.healthPath });
    if (outcome.state !== 'ready') return { name: backend.name, preset: backend.preset, reachable: false, reason: `${outcome.state}: ${outcome.reason}`, identity: {} };
    baseUrl = outcome.backend.baseUrl;
    stop = outcome.backend.stop;
  }
  try {
    const identity = await probeIdentity(baseUrl!, apiKey, { signal, defaultContextSize: assumedContextSize(backend) });
    const runner = createOpenAiHttpRunner({ backend: backend.name, baseUrl: baseUrl!, model: backend.model, apiKey, maxRetries: 1, requestTimeoutMs: 60_000 });
    const features = await probeFeatures(runner, signal);
    const reachable = Object.values(features).some((v) => v === 'yes' || v === 'no') || identity.model !== undefined;
    return { name: backend.name, preset: backend.preset, reachable, identity, features, ...(reachable ? {} : { reason: features.logprobs }) };
  } finally {
    await stop?.();
  }
}

function table(rows: BackendProbe[]): string[] {
  const header = ['backend', 'reachable', 'model', 'engine', 'device', 'logprobs', 'tools', 'named tool_choice', 'streamed tools', 'json_schema'];
  const cells = rows.map((r) => [
    r.name,
    r.reachable ? 'yes' : `no (${r.reason ?? '?'})`,
    r.identity.model ?? '-',
    [r.identity.engine, r.identity.engineVersion].filter(Boolean).join(' ') || '-',
    r.identity.device ?? '-',
    r.features?.logprobs ?? '-',
    r.features?.tools ?? '-',
    r.features?.namedToolChoice ?? '-',
    r.features?.streamedTools ?? '-',
    r.features?.jsonSchema ?? '-',
  ]);
  const all = [header, ...cells];
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  return all.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
}

/** `conform backends`: who is configured, who answers, and what each one really supports. */
export async function backendsCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values } = parseCommandArgs('backends', argv, { backend: { type: 'string', multiple: true }, config: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } });
  if (values.help) return ctx.out(BACKENDS_HELP), EXIT.ok;
  const prepared = await prepareRun({ backend: values.backend, config: values.config }, ctx, false);
  const interrupt = interruptSignal(ctx);
  try {
    const rows: BackendProbe[] = [];
    for (const backend of prepared.backends) {
      if (ctx.isTTY && !values.json) ctx.err(`… probing ${backend.name}`);
      rows.push(await probeOne(backend, prepared.modelPath, prepared.apiKeys[backend.name], ctx, interrupt.signal));
    }
    if (values.json) ctx.out(JSON.stringify(rows, null, 2));
    else for (const line of table(rows)) ctx.out(line);
    return EXIT.ok;
  } finally {
    interrupt.dispose();
  }
}
