import { join } from 'node:path';
import { caseStatus } from '../core/outcome.ts';
import { resolveTolerance } from '../core/tolerance.ts';
import { expandPlan, type PlanItem } from '../core/plan.ts';
import type { BackendConfig, BackendRun, CaseResult, GoldenFile, Sample, Suite, Verdict } from '../core/types.ts';
import { judgeSample } from './judge.ts';
import { runCase, type CaseOutcome } from './run-case.ts';
import { launchBackend, type LaunchedBackend } from '../launch/launch-backend.ts';
import type { Journal } from '../record/journal.ts';
import { createOpenAiHttpRunner } from '../runners/openai-http-runner.ts';
import { presetOf } from '../runners/presets.ts';
import { probeIdentity } from '../runners/probe-identity.ts';
import type { Runner } from '../runners/runner.ts';
import { startBackendTelemetry, type BackendTelemetrySession } from '../telemetry/backend-telemetry.ts';

export interface RunHooks {
  onBackendProgress?(backend: string, line: string): void;
  onBackendReady?(run: BackendRun): void;
  onResult?(result: CaseResult): void;
}

export interface ExecuteRunOptions {
  backends: BackendConfig[];
  suites: Suite[];
  /** Keep only these plan items (sharding); default all. */
  filter?: (item: PlanItem) => boolean;
  runDir: string;
  modelPath: string;
  env: NodeJS.ProcessEnv;
  /** API keys by backend name, already read from the environment by the CLI. */
  apiKeys: Record<string, string | undefined>;
  goldens: Map<string, GoldenFile | undefined>;
  /** 'record' keeps samples for golden and judges nothing. */
  mode: 'compare' | 'record';
  journal: Journal;
  hooks?: RunHooks;
  signal?: AbortSignal;
}

export interface ExecuteRunResult {
  backends: BackendRun[];
  results: CaseResult[];
}

function resultFor(item: PlanItem, verdicts: Verdict[], sample?: Sample): CaseResult {
  return { id: item.id, backend: item.backend.name, suite: item.suite.name, caseId: item.testCase.id, status: caseStatus(verdicts), sample, verdicts };
}

function judge(item: PlanItem, sample: Sample, options: ExecuteRunOptions, siblings: ReadonlyMap<string, Sample>): Verdict[] {
  if (options.mode === 'record')
    return sample.kind === 'ok'
      ? [{ check: 'record', status: 'pass', message: 'recorded as golden' }]
      : [{ check: 'record', status: 'error', message: `${sample.kind}: ${sample.error?.message ?? ''}` }];
  return judgeSample({ testCase: item.testCase, sample, golden: options.goldens.get(item.suite.name), backend: item.backend, siblings });
}

/** Runs items with at most `limit` in flight, in plan order. */
async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(workers);
}

/**
 * Brings each backend up in turn (never two at once: on a small machine they would measure each
 * other), runs its share of the plan, journals every result as it lands, and always stops what it
 * started. Lifecycle cases run last, once the backend's own process is gone, since they start
 * fresh processes of their own.
 */
export async function executeRun(options: ExecuteRunOptions): Promise<ExecuteRunResult> {
  const plan = expandPlan(options.backends, options.suites).filter(options.filter ?? (() => true));
  const backendRuns: BackendRun[] = [];
  const results: CaseResult[] = [];
  const record = (result: CaseResult) => {
    results.push(result);
    options.journal.append({ type: 'result', ...result });
    options.hooks?.onResult?.(result);
  };
  for (const backend of options.backends) {
    const items = plan.filter((item) => item.backend.name === backend.name);
    if (items.length === 0) continue;
    if (options.signal?.aborted) break;
    const run: BackendRun = { name: backend.name, class: backend.class, state: 'ran', identity: {}, tolerance: resolveTolerance(backend.class, backend.tolerance), ...(backend.labels && { labels: backend.labels }) };
    backendRuns.push(run);
    await runBackend(backend, items, run, options, record);
  }
  return { backends: backendRuns, results };
}

function runnerFor(backend: BackendConfig, baseUrl: string, apiKey: string | undefined): Runner {
  return createOpenAiHttpRunner({
    backend: backend.name,
    baseUrl,
    model: backend.model,
    apiKey,
    requestTimeoutMs: backend.requestTimeoutMs,
    connectTimeoutMs: backend.connectTimeoutMs,
    firstByteTimeoutMs: backend.firstByteTimeoutMs,
    idleTimeoutMs: backend.idleTimeoutMs,
    maxRetries: backend.maxRetries,
    topLogprobsCap: presetOf(backend)?.topLogprobsCap,
  });
}

async function runBackend(backend: BackendConfig, items: PlanItem[], run: BackendRun, options: ExecuteRunOptions, record: (r: CaseResult) => void): Promise<void> {
  let launched: LaunchedBackend | undefined;
  let baseUrl = backend.baseUrl;
  const apiKey = backend.apiKeyEnv ? options.apiKeys[backend.name] : undefined;
  const samplesBySuite = new Map<string, Map<string, Sample>>();
  let runner: Runner | undefined;
  let telemetry: BackendTelemetrySession | undefined;
  const caseContext = (runner: Runner) => ({ backend, identity: run.identity, runner, runDir: options.runDir, modelPath: options.modelPath, env: options.env, signal: options.signal });
  const finish = (item: PlanItem, outcome: CaseOutcome) => {
    if ('skip' in outcome) return record(resultFor(item, [{ check: 'requirements', status: 'skip', message: outcome.skip }]));
    const siblings = samplesBySuite.get(item.suite.name) ?? new Map<string, Sample>();
    samplesBySuite.set(item.suite.name, siblings);
    record(resultFor(item, judge(item, outcome.sample, options, siblings), outcome.sample));
    siblings.set(item.testCase.id, outcome.sample);
  };
  const lifecycleItems = items.filter((item) => item.testCase.endpoint === 'lifecycle');
  const requestItems = items.filter((item) => item.testCase.endpoint !== 'lifecycle');
  try {
    if (backend.launch) {
      run.logFile = join(options.runDir, 'logs', `${backend.name}.log`);
      options.hooks?.onBackendProgress?.(backend.name, 'starting');
      const outcome = await launchBackend(backend, {
        healthPath: presetOf(backend)?.healthPath,
        modelPath: options.modelPath,
        logFile: run.logFile,
        env: options.env,
        signal: options.signal,
        onProgress: (line) => options.hooks?.onBackendProgress?.(backend.name, line),
      });
      if (outcome.state !== 'ready') {
        run.state = outcome.state === 'unavailable' ? 'skipped' : 'crashed';
        run.reason = outcome.reason;
        options.journal.append({ type: 'backend', ...run });
        options.hooks?.onBackendReady?.(run);
        const status = outcome.state === 'unavailable' ? 'skip' : 'error';
        for (const item of items) record(resultFor(item, [{ check: 'backend', status, message: `${backend.name} ${outcome.state}: ${outcome.reason}` }]));
        return;
      }
      launched = outcome.backend;
      baseUrl = launched.baseUrl;
      run.coldStart = launched.coldStart;
    }
    run.identity = await probeIdentity(baseUrl!, apiKey);
    options.journal.append({ type: 'backend', ...run });
    options.hooks?.onBackendReady?.(run);
    telemetry = await startBackendTelemetry({ backend, baseUrl: baseUrl!, apiKey, env: options.env });
    runner = telemetry.observe(runnerFor(backend, baseUrl!, apiKey));
    const send = runner;
    let deathNote: string | undefined;
    await pool(requestItems, backend.concurrency ?? 1, async (item) => {
      if (options.signal?.aborted) return;
      if (deathNote) return record(resultFor(item, [{ check: 'backend', status: 'error', message: deathNote }]));
      const outcome = await runCase(item.testCase, caseContext(send));
      const sample = 'sample' in outcome ? outcome.sample : undefined;
      if (sample?.kind === 'crash' && launched && !launched.isAlive()) {
        run.state = 'crashed';
        deathNote = `${backend.name} died mid-run (${launched.exitDescription()}); log tail: ${launched.logTail().split('\n').slice(-3).join(' | ')}`;
        run.reason = deathNote;
      } else if (sample?.kind === 'crash' && !launched) {
        // A server we did not start and cannot reach after retries will not come back within this run.
        deathNote = `${backend.name} is unreachable: ${sample.error?.message ?? 'connection failed'}`;
      }
      finish(item, outcome);
    });
  } finally {
    if (telemetry) run.telemetry = await telemetry.finish();
    await launched?.stop();
  }
  for (const item of lifecycleItems) {
    if (options.signal?.aborted) break;
    options.hooks?.onBackendProgress?.(backend.name, `${item.testCase.id}: ${item.testCase.lifecycle?.start} start`);
    if (!runner) break; // the backend never came up; its lifecycle cases were already reported
    finish(item, await runCase(item.testCase, caseContext(runner)));
  }
}
