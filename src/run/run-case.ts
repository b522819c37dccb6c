import { join } from 'node:path';
import { runAgentCase } from '../agent/agent-loop.ts';
import { unmetRequirement } from '../core/backend-limits.ts';
import type { BackendConfig, BackendIdentity, Case, Sample } from '../core/types.ts';
import { presetOf } from '../runners/presets.ts';
import type { Runner } from '../runners/runner.ts';
import { runLifecycleCase } from './lifecycle.ts';
import { startLoadMeter } from '../launch/load-meter.ts';
import { runRepeated } from './repeat.ts';
import { extend } from '../core/extend.ts';

export interface RunCaseContext {
  backend: BackendConfig;
  identity: BackendIdentity;
  runner: Runner;
  runDir: string;
  modelPath: string;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/** Either a sample to judge, or the reason this backend cannot run the case at all. */
export type CaseOutcome = { sample: Sample } | { skip: string };

/** Sends one case the way its endpoint asks: a plain request, repeats, an agent loop or a fresh start of the backend. */
export async function runCase(testCase: Case, ctx: RunCaseContext): Promise<CaseOutcome> {
  const unmet = unmetRequirement(testCase, ctx.backend, ctx.identity);
  if (unmet) return { skip: unmet };
  if (testCase.endpoint === 'lifecycle') {
    if (!ctx.backend.launch) return { skip: `conform does not launch ${ctx.backend.name}, so it cannot measure its start` };
    const logFile = join(ctx.runDir, 'logs', `${ctx.backend.name}.${testCase.id}.log`);
    return { sample: await runLifecycleCase(ctx.backend, testCase, { modelPath: ctx.modelPath, env: ctx.env, logFile, healthPath: presetOf(ctx.backend)?.healthPath, signal: ctx.signal }) };
  }
  // Timed checks take out the time the backend's processes spent waiting for a CPU (core/machine-load.ts).
  // A server conform did not start has no process here to read: metering it would cost /proc reads for
  // every case (a fifth of a 10,000-case run's CPU) and measure nothing.
  if (!ctx.backend.launch) return { sample: await sendCase(testCase, ctx) };
  const meter = startLoadMeter();
  try {
    const sample = await sendCase(testCase, ctx);
    const machine = meter.stop();
    return { sample: machine ? extend(sample, { machine }) : sample };
  } finally {
    meter.stop();
  }
}

function sendCase(testCase: Case, ctx: RunCaseContext): Promise<Sample> {
  if (testCase.endpoint === 'agent') return runAgentCase(ctx.runner, testCase, { signal: ctx.signal });
  if (testCase.repeat) return runRepeated(ctx.runner, testCase, ctx.signal);
  return ctx.runner.run(testCase, { signal: ctx.signal });
}
