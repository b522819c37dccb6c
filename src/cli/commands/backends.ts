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

export { BACKENDS_HELP } from '../command-help.ts';
import { BACKENDS_HELP } from '../command-help.ts';

export interface BackendProbe {
  name: string;
  preset?: string;
  reachable: boolean;
  /** Why it is not reachable: "unreachable: …", "crashed: …" (launch failed), "unavailable: …" (no such device here). */
  reason?: string;
  identity: BackendIdentity;
  features?: FeatureProbe;
}

/** The base URL as it may be shown: without user, password or query. */
function shownBaseUrl(baseUrl: string): string {
  const url = new URL(baseUrl);
  url.username = '';
  url.password = '';
  url.search = '';
  return url.toString().replace(/\/$/, '');
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
    const probed = await probeFeatures(runner, shownBaseUrl(baseUrl!), signal);
    if (!probed.reachable) return { name: backend.name, preset: backend.preset, reachable: false, reason: probed.reason, identity };
    return { name: backend.name, preset: backend.preset, reachable: true, identity, features: probed.features };
  } finally {
    await stop?.();
  }
}

const FEATURES: Array<[keyof FeatureProbe, string]> = [
  ['logprobs', 'logprobs'],
  ['tools', 'tools'],
  ['namedToolChoice', 'named tool_choice'],
  ['streamedTools', 'streamed tools'],
  ['jsonSchema', 'json_schema'],
];

/** A verdict's word for the table ("yes", "no", "error"); the reason goes under the table. */
const cellOf = (verdict: string | undefined) => verdict?.split(':')[0] ?? '-';

function table(rows: BackendProbe[]): string[] {
  const header = ['backend', 'reachable', 'model', 'engine', 'device', ...FEATURES.map(([, label]) => label)];
  const cells = rows.map((r) => [
    r.name,
    r.reachable ? 'yes' : 'no',
    r.identity.model ?? '-',
    [r.identity.engine, r.identity.engineVersion].filter(Boolean).join(' ') || '-',
    r.identity.device ?? '-',
    ...FEATURES.map(([key]) => cellOf(r.features?.[key])),
  ]);
  const all = [header, ...cells];
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  return all.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
}

/** One line per backend that could not be probed and per feature that is not a plain yes. */
function reasons(rows: BackendProbe[]): string[] {
  const lines: string[] = [];
  for (const r of rows) {
    if (!r.reachable) lines.push(`${r.name}: ${r.reason ?? 'not reachable'}`);
    for (const [key, label] of FEATURES) {
      const verdict = r.features?.[key];
      if (verdict !== undefined && verdict !== 'yes') lines.push(`${r.name} ${label}: ${verdict}`);
    }
  }
  return lines;
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
    else {
      for (const line of table(rows)) ctx.out(line);
      const why = reasons(rows);
      if (why.length > 0) ctx.out('');
      for (const line of why) ctx.out(line);
    }
    // A device that does not exist here is a skip, as in conform run; anything else unreached is trouble.
    return rows.some((r) => !r.reachable && !r.reason?.startsWith('unavailable:')) ? EXIT.infrastructure : EXIT.ok;
  } finally {
    interrupt.dispose();
  }
}
