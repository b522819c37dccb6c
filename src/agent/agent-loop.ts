// Drives a tool-use loop against a backend the way an agent framework would, but with the network between
// the agent and its tools made hostile on purpose (latency, resets, rate limits, …; see fault-proxy.ts).
// What it measures is the client side's discipline as much as the model: every tool call is retried with
// the same idempotency key, bounded backoff honours Retry-After, each attempt has its own timeout, and the
// whole loop has a budget. The record says what happened, so the agent-loop check can judge it.

import { request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { ConformError } from '../core/errors.ts';
import type { AgentRecord, Case, ChatMessage, Sample, ToolCall } from '../core/types.ts';
import type { Runner } from '../runners/runner.ts';
import { startFaultProxy, type FaultProxy } from './fault-proxy.ts';
import { createSeededRandom, type SeededRandom } from '../core/seeded-random.ts';
import { abortableSleep } from '../runners/abortable-sleep.ts';
import { startToolServer, type ToolServer } from './tool-server.ts';
import { forcedToolName, toolChoiceForTurn } from './tool-choice.ts';

/** How the run loop reaches into an agent case: stopping it, and tuning retries where a test needs it faster. */
export interface AgentLoopOptions {
  signal?: AbortSignal;
  /** Limit for one tool attempt, so a `timeout` toxic costs one attempt rather than the budget. @default budgetMs / 10, within [500, 5000] */
  attemptTimeoutMs?: number;
  /** First backoff step; doubles per retry, with seeded jitter. @default 100 */
  retryBaseDelayMs?: number;
}

type ToolCallRecord = AgentRecord['toolCalls'][number];

// Busy or restarting: the same request may succeed later. Any other status is the tool's final answer.
const RETRY_STATUSES = new Set([429, 502, 503, 504]);
const MAX_BACKOFF_MS = 5_000;

interface AttemptResult {
  status?: number;
  body?: string;
  retryAfterMs?: number;
  /** Set when no complete answer arrived: reset, truncated, timed out. */
  error?: string;
}

function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}


// One connection per attempt (agent: false): the proxy draws its faults per connection, and a reused socket
// that the proxy had reset would turn one fault into two failures.
function attemptTool(url: string, body: string, headers: Record<string, string>, timeoutMs: number, signal: AbortSignal): Promise<AttemptResult> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (result: AttemptResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      req.destroy();
      resolve(result);
    };
    const req = request(url, { method: 'POST', agent: false, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        // Fewer bytes than Content-Length (limit_data) is a lost answer, not a short one.
        if (!res.complete) return settle({ error: 'connection closed before the answer was complete' });
        const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
        settle({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8'), ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
      });
      res.on('error', (err) => settle({ error: `answer broken off: ${err.message}` }));
      res.on('close', () => settle({ error: 'connection closed before the answer was complete' }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => settle({ error: `${err.message}${err.code && !err.message.includes(err.code) ? ` (${err.code})` : ''}` }));
    const timer = setTimeout(() => settle({ error: `no complete answer within ${timeoutMs} ms` }), timeoutMs);
    const onAbort = (): void => settle({ error: 'aborted' });
    signal.addEventListener('abort', onAbort, { once: true });
    req.end(body);
  });
}

interface ToolRun {
  attempts: number;
  outcome: string;
  content: string;
}

interface ToolRunContext {
  proxyUrl: string;
  maxRetries: number;
  attemptTimeoutMs: number;
  baseDelayMs: number;
  jitter: SeededRandom;
  deadline: number;
  signal: AbortSignal;
  budgetSignal: AbortSignal;
}

// Executes one tool call through the proxy: the same idempotency key on every attempt, so a retry after a
// lost answer is recognised by the server instead of booking a second table.
async function runTool(call: ToolCall, key: string, logicalCall: string, ctx: ToolRunContext): Promise<ToolRun> {
  const url = `${ctx.proxyUrl}/tools/${encodeURIComponent(call.name)}`;
  const headers = { 'content-type': 'application/json', 'idempotency-key': key, 'x-conform-call': logicalCall, connection: 'close' };
  // Stopped by the caller, or by the budget (spent, or too little left for the next backoff).
  const stopped = (attempts: number): ToolRun => {
    const outcome = ctx.signal.aborted && !ctx.budgetSignal.aborted ? 'aborted' : 'budget';
    return { attempts, outcome, content: JSON.stringify({ error: `tool call stopped: ${outcome === 'budget' ? 'the loop ran out of time' : 'the run was aborted'}` }) };
  };
  let lastError = '';
  for (let attempt = 1; ; attempt++) {
    const remaining = ctx.deadline - performance.now();
    if (ctx.signal.aborted || remaining <= 0) return stopped(attempt - 1);
    const result = await attemptTool(url, call.arguments, headers, Math.min(ctx.attemptTimeoutMs, remaining), ctx.signal);
    if (ctx.signal.aborted) return stopped(attempt);
    if (result.status !== undefined && result.status >= 200 && result.status < 300) return { attempts: attempt, outcome: 'ok', content: result.body ?? '' };
    if (result.status !== undefined && !RETRY_STATUSES.has(result.status))
      return { attempts: attempt, outcome: `http-${result.status}`, content: result.body || JSON.stringify({ error: `HTTP ${result.status}` }) };
    lastError = result.error ?? `HTTP ${result.status}`;
    if (attempt > ctx.maxRetries)
      return { attempts: attempt, outcome: 'exhausted', content: JSON.stringify({ error: `tool unavailable after ${attempt} attempts: ${lastError}` }) };
    const step = Math.min(MAX_BACKOFF_MS, ctx.baseDelayMs * 2 ** (attempt - 1));
    // Jitter keeps clients from retrying in lockstep; Retry-After is a floor, never shortened by it.
    const delay = Math.max(step / 2 + ctx.jitter.next() * (step / 2), result.retryAfterMs ?? 0);
    if (performance.now() + delay >= ctx.deadline) return stopped(attempt);
    await abortableSleep(delay, ctx.signal);
  }
}

function emptySample(startedAt: string): Sample {
  return { kind: 'ok', text: '', tokens: [], toolCalls: [], finishReason: null, timings: { chunkMs: [], endMs: 0 }, startedAt, streamed: false, deviations: [], retries: 0 };
}

/** Runs an agent case: model turns through `runner`, tool calls through a seeded fault proxy, the whole within budget. */
export async function runAgentCase(runner: Runner, testCase: Case, options: AgentLoopOptions = {}): Promise<Sample> {
  const spec = testCase.agent;
  if (!spec) throw new ConformError('SUITE_INVALID', `case ${testCase.id} has endpoint agent but no "agent" settings`);
  const startedAt = new Date().toISOString();
  const started = performance.now();
  const deadline = started + spec.budgetMs;
  const budget = new AbortController();
  const budgetTimer = setTimeout(() => budget.abort(new Error(`agent budget of ${spec.budgetMs} ms spent`)), spec.budgetMs);
  const signal = options.signal ? AbortSignal.any([budget.signal, options.signal]) : budget.signal;
  let tools: ToolServer | undefined;
  let proxy: FaultProxy | undefined;
  try {
    tools = await startToolServer();
    try {
      proxy = await startFaultProxy({ target: tools.url, faults: spec.faults, seed: spec.seed });
    } catch (error) {
      // A fault the schema let through but the proxy cannot apply (bandwidth rate 0, …) is the suite's mistake.
      if (error instanceof RangeError) throw new ConformError('SUITE_INVALID', `case ${testCase.id}: ${error.message}`, { cause: error });
      throw error;
    }
    const ctx: ToolRunContext = {
      proxyUrl: proxy.url,
      maxRetries: spec.maxToolRetries ?? 4,
      attemptTimeoutMs: options.attemptTimeoutMs ?? Math.min(5_000, Math.max(500, spec.budgetMs / 10)),
      baseDelayMs: options.retryBaseDelayMs ?? 100,
      jitter: createSeededRandom(spec.seed, 'retry-jitter'),
      deadline,
      signal,
      budgetSignal: budget.signal,
    };
    const messages: ChatMessage[] = [...(testCase.messages ?? [])];
    const calls: ToolCallRecord[] = [];
    const deviations = new Set<string>();
    let last: Sample | undefined;
    let failed: Sample | undefined;
    let turns = 0;
    let completed = false;
    let stopped = false;

    for (let turn = 0; turn < spec.maxTurns && !stopped && !signal.aborted; turn++) {
      const toolChoice = toolChoiceForTurn(testCase, turn);
      const sample = await runner.run({ ...testCase, endpoint: 'chat', messages: [...messages], params: { ...testCase.params, tool_choice: toolChoice } }, { signal });
      turns++;
      last = sample;
      for (const d of sample.deviations) deviations.add(d);
      if (sample.kind !== 'ok') {
        // A turn cut off by the budget is the loop's failure to finish, judged by the check; any other is the backend's.
        if (!budget.signal.aborted) failed = sample;
        break;
      }
      if (sample.toolCalls.length === 0) {
        // A forced choice answered without a call is the server ignoring tool_choice, not the model finishing.
        const forced = forcedToolName(toolChoice);
        if (forced) deviations.add(`tool-choice-ignored:${forced}`);
        completed = true;
        break;
      }
      if (turn === spec.maxTurns - 1) break;
      const ids = sample.toolCalls.map((c, i) => c.id || `call_${turn}_${i}`);
      messages.push({
        role: 'assistant',
        content: sample.text === '' ? null : sample.text,
        tool_calls: sample.toolCalls.map((c, i) => ({ id: ids[i]!, type: 'function' as const, function: { name: c.name, arguments: c.arguments } })),
      });
      // One call at a time: concurrent calls would number the proxy's requests by timing and break reproducibility.
      for (const [i, call] of sample.toolCalls.entries()) {
        const key = `${testCase.id}/turn-${turn}/call-${i}`;
        const t0 = performance.now();
        const run = await runTool(call, key, `${turn}.${i}`, ctx);
        calls.push({ turn, name: call.name, arguments: call.arguments, idempotencyKey: key, attempts: run.attempts, outcome: run.outcome, elapsedMs: performance.now() - t0 });
        messages.push({ role: 'tool', tool_call_id: ids[i]!, content: run.content });
        if (run.outcome === 'budget' || run.outcome === 'aborted') {
          stopped = true;
          break;
        }
      }
    }

    const elapsedMs = performance.now() - started;
    const sideEffects: AgentRecord['sideEffects'] = tools.ledger.sideEffects().map(({ idempotencyKey, applied }) => ({ idempotencyKey, applied }));
    // A logical call applied under several keys is one duplicated side effect; its entry names all the keys.
    for (const dup of tools.ledger.duplicatedCalls()) sideEffects.push({ idempotencyKey: dup.keys.join(' + '), applied: dup.applied });
    const agent: AgentRecord = {
      turns,
      completed,
      elapsedMs,
      toolCalls: calls,
      sideEffects,
      faults: proxy.schedule.map((f) => ({ ...f })),
      finalText: last?.text ?? '',
    };
    const callerAborted = options.signal?.aborted === true && !budget.signal.aborted;
    const { variants: _v, lifecycle: _l, error: _e, agent: _a, ...finalTurn } = last ?? emptySample(startedAt);
    const sample: Sample = {
      ...finalTurn,
      kind: failed?.kind ?? (callerAborted ? 'crash' : 'ok'),
      startedAt,
      deviations: [...deviations],
      retries: calls.reduce((sum, c) => sum + Math.max(0, c.attempts - 1), 0),
      agent,
    };
    if (failed?.error) sample.error = { ...failed.error, message: `turn ${turns}: ${failed.error.message}` };
    else if (callerAborted) sample.error = { message: `agent loop aborted after ${turns} turns: ${String(options.signal?.reason)}` };
    return sample;
  } finally {
    clearTimeout(budgetTimer);
    await proxy?.close();
    await tools?.close();
  }
}
