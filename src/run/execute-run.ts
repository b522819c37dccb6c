import { join } from 'node:path';
import { referencedCaseIds } from '../assertions/index.ts';
import { caseStatus } from '../core/outcome.ts';
import { redactSecrets } from '../core/redact.ts';
import { resolveTolerance } from '../core/tolerance.ts';
import { trimmedResult } from '../core/trimmed-result.ts';
import { expandPlan, type PlanItem } from '../core/plan.ts';
import type { BackendConfig, BackendRun, CaseResult, GoldenFile, Sample, Suite, Verdict } from '../core/types.ts';
import { judgeSample } from './judge.ts';
import { runCase, type CaseOutcome } from './run-case.ts';
import { launchBackend, type LaunchedBackend } from '../launch/launch-backend.ts';
import type { Journal } from '../record/journal.ts';
import { continuedBackend } from '../record/run-journal.ts';
import { createOpenAiHttpRunner } from '../runners/openai-http-runner.ts';
import { createConnectionPool } from '../runners/connection-pool.ts';
import { assumedContextSize, presetOf } from '../runners/presets.ts';
import { probeIdentity } from '../runners/probe-identity.ts';
import type { Runner } from '../runners/runner.ts';
import type { Dispatcher } from 'undici';
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
  /** 'record' keeps samples for golden and judges them only with the checks that need no golden. */
  mode: 'compare' | 'record';
  journal: Journal;
  hooks?: RunHooks;
  signal?: AbortSignal;
  /**
   * What the run being resumed already journaled: its cases are not sent again, its samples are there
   * for checks that compare with an earlier case (matches-case), and its backends carry over.
   */
  recorded?: { results: CaseResult[]; backends: BackendRun[] };
  /**
   * Let go of each passing sample's answer once it is judged and journaled (core/trimmed-result.ts), so that
   * memory holds figures, not answers; `conform run` sets it, recording golden needs every answer whole.
   * @default false
   */
  trimPassingSamples?: boolean;
}

export interface ExecuteRunResult {
  backends: BackendRun[];
  results: CaseResult[];
}

/** Cases in a row that could not even open a connection before a backend counts as gone for this run. */
export const UNREACHABLE_AFTER = 3;

// No connection could be opened at all. A reset or a close once connected is trouble of that answer only.
const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/** True when the runner, after its own retries, never got a connection to the server. */
function couldNotConnect(sample: Sample | undefined): boolean {
  if (sample?.kind === 'timeout') return sample.error?.code === 'connect-timeout';
  return sample?.kind === 'crash' && sample.timings.firstByteMs === undefined && CONNECT_FAILURES.has(sample.error?.code ?? '');
}

function resultFor(item: PlanItem, verdicts: Verdict[], sample?: Sample): CaseResult {
  return { id: item.id, backend: item.backend.name, suite: item.suite.name, caseId: item.testCase.id, status: caseStatus(verdicts), sample, verdicts };
}

function judge(item: PlanItem, sample: Sample, options: ExecuteRunOptions, siblings: ReadonlyMap<string, Sample>, identity: BackendRun['identity']): Verdict[] {
  if (options.mode === 'record' && sample.kind !== 'ok') return [{ check: 'record', status: 'error', message: `${sample.kind}: ${sample.error?.message ?? ''}` }];
  // Recording judges without golden: the checks that need none say whether the sample is fit to be golden.
  const golden = options.mode === 'record' ? undefined : options.goldens.get(item.suite.name);
  return judgeSample({ testCase: item.testCase, sample, golden, backend: item.backend, siblings, identity });
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
 * Runs every remote backend at once, then brings each launched backend up in turn (never two at once: on
 * a small machine they would measure each other), runs its share of the plan, journals every result as it
 * lands, and always stops what it started. Lifecycle cases run last, once the backend's own process is
 * gone, since they start fresh processes of their own.
 */
export async function executeRun(options: ExecuteRunOptions): Promise<ExecuteRunResult> {
  const fullPlan = expandPlan(options.backends, options.suites).filter(options.filter ?? (() => true));
  const recorded = options.recorded ?? { results: [], backends: [] };
  const done = new Set(recorded.results.map((r) => r.id));
  const plan = fullPlan.filter((item) => !done.has(item.id));
  const results: CaseResult[] = [...recorded.results];
  const secrets = Object.values(options.apiKeys).filter((key): key is string => typeof key === 'string' && key !== '');
  const record = (raw: CaseResult) => {
    // The runner redacts its own backend's key; every key is taken out again here, whatever produced the result.
    const result = redactSecrets(raw, secrets);
    result.sampleLine = options.journal.append({ type: 'result', ...result });
    results.push(options.trimPassingSamples ? trimmedResult(result) : result);
    options.hooks?.onResult?.(result);
  };
  const runs = new Map<string, BackendRun>();
  const runOne = async (backend: BackendConfig): Promise<void> => {
    const items = plan.filter((item) => item.backend.name === backend.name);
    const before = recorded.backends.find((b) => b.name === backend.name);
    if (items.length === 0 || options.signal?.aborted) {
      if (before) runs.set(backend.name, before);
      return;
    }
    const run: BackendRun = { name: backend.name, class: backend.class, state: 'ran', identity: {}, tolerance: resolveTolerance(backend.class, backend.tolerance), ...(backend.labels && { labels: backend.labels }) };
    await runBackend(backend, items, run, options, record, recorded.results.filter((r) => r.backend === backend.name));
    runs.set(backend.name, before ? continuedBackend(before, run) : run);
  };
  // Servers conform did not start share nothing here but conform's own event loop, so they run at once: a
  // CI job against a ROCm box and a CUDA box takes the longer of the two, not the sum. Backends conform
  // launches run one at a time, after them, with nothing else in flight: on a small machine two engines, or
  // an engine and the traffic of remote ones, would measure each other.
  await Promise.all(options.backends.filter((b) => !b.launch).map(runOne));
  for (const backend of options.backends.filter((b) => b.launch)) await runOne(backend);
  const backendRuns = options.backends.flatMap((b) => runs.get(b.name) ?? []);
  // In the order an uninterrupted run with one request at a time records them, whatever was resumed or concurrent.
  const order = executionOrder(fullPlan, options.backends);
  results.sort((a, b) => (order.get(a.id) ?? Infinity) - (order.get(b.id) ?? Infinity));
  return { backends: backendRuns, results };
}

/** Plan position by id: backend by backend, its request cases in plan order, then its lifecycle cases. */
function executionOrder(plan: PlanItem[], backends: BackendConfig[]): Map<string, number> {
  const order = new Map<string, number>();
  for (const backend of backends) {
    const mine = plan.filter((item) => item.backend.name === backend.name);
    for (const item of [...mine.filter((i) => i.testCase.endpoint !== 'lifecycle'), ...mine.filter((i) => i.testCase.endpoint === 'lifecycle')]) order.set(item.id, order.size);
  }
  return order;
}

function runnerFor(backend: BackendConfig, baseUrl: string, apiKey: string | undefined, dispatcher: Dispatcher): Runner {
  return createOpenAiHttpRunner({
    backend: backend.name,
    baseUrl,
    model: backend.model,
    apiKey,
    backendClass: backend.class,
    requestTimeoutMs: backend.requestTimeoutMs,
    connectTimeoutMs: backend.connectTimeoutMs,
    firstByteTimeoutMs: backend.firstByteTimeoutMs,
    firstTokenTimeoutMs: backend.firstTokenTimeoutMs,
    idleTimeoutMs: backend.idleTimeoutMs,
    maxResponseBytes: backend.maxResponseBytes,
    maxRetries: backend.maxRetries,
    topLogprobsCap: presetOf(backend)?.topLogprobsCap,
    dispatcher,
  });
}

async function runBackend(backend: BackendConfig, items: PlanItem[], run: BackendRun, options: ExecuteRunOptions, record: (r: CaseResult) => void, recorded: CaseResult[]): Promise<void> {
  let launched: LaunchedBackend | undefined;
  let baseUrl = backend.baseUrl;
  const apiKey = backend.apiKeyEnv ? options.apiKeys[backend.name] : undefined;
  // Only the samples a later case compares with (matches-case, a warm start's cold twin) are kept for it.
  const referenced = new Map(options.suites.map((suite) => [suite.name, referencedCaseIds(suite.cases)]));
  const isReferenced = (suite: string, caseId: string) => referenced.get(suite)?.has(caseId) === true;
  const samplesBySuite = new Map<string, Map<string, Sample>>();
  // A resumed run's earlier samples are siblings as they were in the run it continues.
  for (const r of recorded) {
    if (!r.sample || !isReferenced(r.suite, r.caseId)) continue;
    const siblings = samplesBySuite.get(r.suite) ?? new Map<string, Sample>();
    samplesBySuite.set(r.suite, siblings.set(r.caseId, r.sample));
  }
  let runner: Runner | undefined;
  let telemetry: BackendTelemetrySession | undefined;
  const caseContext = (runner: Runner) => ({ backend, identity: run.identity, runner, runDir: options.runDir, modelPath: options.modelPath, env: options.env, signal: options.signal });
  const finish = (item: PlanItem, outcome: CaseOutcome) => {
    if ('skip' in outcome) return record(resultFor(item, [{ check: 'requirements', status: 'skip', message: outcome.skip }]));
    const siblings = samplesBySuite.get(item.suite.name) ?? new Map<string, Sample>();
    samplesBySuite.set(item.suite.name, siblings);
    record(resultFor(item, judge(item, outcome.sample, options, siblings, run.identity), outcome.sample));
    if (isReferenced(item.suite.name, item.testCase.id)) siblings.set(item.testCase.id, outcome.sample);
  };
  const lifecycleItems = items.filter((item) => item.testCase.endpoint === 'lifecycle');
  const requestItems = items.filter((item) => item.testCase.endpoint !== 'lifecycle');
  // One keep-alive pool for the probe and the runner: the first case must not time a TCP connect.
  const connections = createConnectionPool({ connectTimeoutMs: backend.connectTimeoutMs });
  try {
    if (backend.launch) {
      run.logFile = join(options.runDir, 'logs', `${backend.name}.log`);
      options.hooks?.onBackendProgress?.(backend.name, 'starting');
      const outcome = await launchBackend(backend, {
        healthPath: presetOf(backend)?.healthPath,
        modelPath: options.modelPath,
        logFile: run.logFile,
        env: options.env,
        secrets: Object.values(options.apiKeys).filter((key): key is string => typeof key === 'string' && key !== ''),
        signal: options.signal,
        onProgress: (line) => options.hooks?.onBackendProgress?.(backend.name, line),
      });
      if (outcome.state !== 'ready') {
        // Interrupted while starting: nothing was tried, so nothing is recorded and a resume starts it again.
        if (options.signal?.aborted) return;
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
    run.identity = await probeIdentity(baseUrl!, apiKey, { dispatcher: connections, signal: options.signal, defaultContextSize: assumedContextSize(backend) });
    options.journal.append({ type: 'backend', ...run });
    options.hooks?.onBackendReady?.(run);
    telemetry = await startBackendTelemetry({ backend, baseUrl: baseUrl!, apiKey, env: options.env, dispatcher: connections, signal: options.signal });
    runner = telemetry.observe(runnerFor(backend, baseUrl!, apiKey, connections));
    const send = runner;
    // Only two things end a backend mid-run: the process conform launched died, or UNREACHABLE_AFTER cases
    // in a row found nothing to connect to. A reset or a broken answer is an error of that case alone.
    let deathNote: string | undefined;
    let connectFailures = 0;
    const died = (process: LaunchedBackend) => {
      run.state = 'crashed';
      deathNote = `${backend.name} died mid-run (${process.exitDescription()}); log tail: ${process.logTail().split('\n').slice(-3).join(' | ')}`;
      run.reason = deathNote;
    };
    await pool(requestItems, backend.concurrency ?? 1, async (item) => {
      if (options.signal?.aborted) return;
      if (!deathNote && launched && !launched.isAlive()) died(launched);
      if (deathNote) return record(resultFor(item, [{ check: 'backend', status: 'error', message: deathNote }]));
      const outcome = await runCase(item.testCase, caseContext(send));
      // A case cut short by an interrupt has no result: a resumed run sends it again.
      if (options.signal?.aborted) return;
      const sample = 'sample' in outcome ? outcome.sample : undefined;
      if (sample?.kind === 'crash' && launched && !launched.isAlive()) died(launched);
      else if (!couldNotConnect(sample)) connectFailures = 0;
      else if (++connectFailures >= UNREACHABLE_AFTER) {
        run.state = 'unavailable';
        deathNote = `${backend.name} is unreachable: ${UNREACHABLE_AFTER} cases in a row could not connect (${sample!.error!.message}); the remaining cases were not sent`;
        run.reason = deathNote;
      }
      finish(item, outcome);
    });
    if (run.state !== 'ran') options.journal.append({ type: 'backend', ...run });
  } finally {
    if (telemetry) run.telemetry = await telemetry.finish();
    await launched?.stop();
    await connections.close();
  }
  for (const item of lifecycleItems) {
    if (options.signal?.aborted) break;
    options.hooks?.onBackendProgress?.(backend.name, `${item.testCase.id}: ${item.testCase.lifecycle?.start} start`);
    if (!runner) break; // the backend never came up; its lifecycle cases were already reported
    const outcome = await runCase(item.testCase, caseContext(runner));
    if (options.signal?.aborted) break;
    finish(item, outcome);
  }
}
