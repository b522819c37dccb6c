// Runs a Case against any OpenAI-compatible HTTP server and turns whatever happens, including
// outages, broken streams and hostile bodies, into a Sample: a conformance run must record trouble, not die of it.

import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import { extend } from '../core/extend.ts';
import { redactSecrets } from '../core/redact.ts';
import { requestTimeouts, MIN_OBSERVED_PROMPT_BYTES, type PrefillObservation, type RequestTimeouts } from '../core/timeouts.ts';
import type { Case, Sample, SampleTimings } from '../core/types.ts';
import { abortableSleep } from './abortable-sleep.ts';
import { onAbort } from './abort-relay.ts';
import { DEFAULT_MAX_RESPONSE_BYTES, describeBytes, readBounded } from './bounded-body.ts';
import { connectionReleased, createConnectionPool } from './connection-pool.ts';
import { createStreamAccumulator, normalizeCompletion, serverErrorOf, type NormalizedResponse } from './normalize.ts';
import { promptBytes, requestBody } from './request-body.ts';
import type { RunCaseOptions, Runner } from './runner.ts';
import { createSseParser } from './sse-parser.ts';
import { startWatchdog, type PhaseLimit } from './watchdog.ts';

export interface OpenAiHttpRunnerOptions {
  backend: string;
  /** OpenAI-compatible base URL, including `/v1`. */
  baseUrl: string;
  model: string;
  apiKey?: string;
  /** The backend's class: sets how fast the first-token limit expects it to prefill (src/core/timeouts.ts). */
  backendClass?: string;
  /** Limit for one attempt, from sending to the end of the body. @default 120000 + the prompt's prefill allowance */
  requestTimeoutMs?: number;
  /** Limit for the TCP connection to open; ignored when `dispatcher` is given, which has its own. @default 10000 */
  connectTimeoutMs?: number;
  /** Limit from sending to the response headers. @default the first-token limit when streamed, requestTimeoutMs when not */
  firstByteTimeoutMs?: number;
  /** Limit from sending to the first streamed token. @default 60000 + the prompt's prefill allowance */
  firstTokenTimeoutMs?: number;
  /** Longest silence allowed between two reads once the answer has begun, keep-alives included. @default 30000 */
  idleTimeoutMs?: number;
  /** Largest body read, error bodies included; past it the answer is cut and its sample says so. @default 8388608 */
  maxResponseBytes?: number;
  /** @default 3 */
  maxRetries?: number;
  /** Largest top_logprobs the server accepts (from its preset); larger requests are clamped and the sample says so. */
  topLogprobsCap?: number;
  /** First backoff step; doubles per retry, with jitter. @default 500 */
  retryBaseDelayMs?: number;
  /** The backend's connection pool, shared with its identity probe (connection-pool.ts); the runner makes its own otherwise. */
  dispatcher?: Dispatcher;
}

// Statuses that mean "busy or restarting, try again"; llama.cpp answers bad requests with 500, so 500 is not one.
const RETRY_STATUSES = new Set([429, 502, 503, 504]);
// Failures to reach the server at all; a server that is restarting shows these for a moment.
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_CLOSED']);

type Attempt = { sample: Omit<Sample, 'retries' | 'startedAt'>; retryable: boolean; retryAfterMs?: number };
type PartialAnswer = NormalizedResponse & { timings?: SampleTimings };

function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  const code = e?.code ?? e?.cause?.code;
  return typeof code === 'string' ? code : undefined;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function parseRetryAfter(header: string | string[] | undefined): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Agent and lifecycle cases are driven elsewhere; what reaches this runner is a chat or a completion request. */
function httpEndpoint(testCase: Case): 'chat' | 'completion' {
  return testCase.endpoint === 'completion' ? 'completion' : 'chat';
}

function emptySample(streamed: boolean, timings: SampleTimings): Omit<Sample, 'retries' | 'startedAt'> {
  return { kind: 'ok', text: '', tokens: [], toolCalls: [], finishReason: null, timings, streamed, deviations: [] };
}

// Messages name the URL without credentials or query, which may carry secrets of their own.
function shownUrl(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  u.search = '';
  return u.toString();
}

/** The one-line reason for a limit that ran out: which limit, its value, and the option that raises it. */
function timeoutMessage(limit: PhaseLimit, backend: string, url: string, t: RequestTimeouts, streamed: boolean, bodyStarted: boolean): string {
  switch (limit) {
    case 'first-byte':
      return streamed && t.firstByteMs === t.firstTokenMs
        ? `${backend} sent no response headers for ${url} within ${t.firstByteMs} ms (the first-token limit, which headers share when streaming: ${t.firstTokenBasis}; raise firstTokenTimeoutMs or firstByteTimeoutMs)`
        : `${backend} sent no response headers for ${url} within ${t.firstByteMs} ms (the first-byte limit; raise firstByteTimeoutMs)`;
    case 'first-token':
      return `${backend} sent headers for ${url} but no first token within ${t.firstTokenMs} ms (the first-token limit: ${t.firstTokenBasis}; raise firstTokenTimeoutMs)`;
    case 'idle':
      if (streamed) return `${backend} went silent for more than ${t.idleMs} ms after its first token at ${url} (the silence limit; raise idleTimeoutMs)`;
      return bodyStarted
        ? `${backend}'s body from ${url} stalled for more than ${t.idleMs} ms (the silence limit; raise idleTimeoutMs)`
        : `${backend} sent headers for ${url} but no body within ${t.idleMs} ms (the silence limit; raise idleTimeoutMs)`;
    case 'total':
      return `${backend} did not finish answering ${url} within ${t.totalMs} ms (the whole-request limit; raise requestTimeoutMs)`;
  }
}

/** The HTTP runner, which can also say what limits it would give a case now (they grow as it measures the backend). */
export interface OpenAiHttpRunner extends Runner {
  timeoutsFor(testCase: Case): RequestTimeouts;
}

/** A Runner for OpenAI-compatible servers (llama.cpp, vLLM, Ollama, …) over HTTP with retries, limits and a body cap. */
export function createOpenAiHttpRunner(options: OpenAiHttpRunnerOptions): OpenAiHttpRunner {
  const { backend, model, apiKey } = options;
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const maxRetries = options.maxRetries ?? 3;
  const baseDelayMs = options.retryBaseDelayMs ?? 500;
  const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const dispatcher = options.dispatcher ?? createConnectionPool({ connectTimeoutMs: options.connectTimeoutMs });
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (apiKey) headers.authorization = `Bearer ${apiKey}`;
  // Samples are written to reports and golden files; no secret may reach them, even echoed by a server.
  const urlPassword = decodeURIComponent(new URL(baseUrl).password);
  const secrets = [apiKey, urlPassword].filter((s): s is string => typeof s === 'string' && s !== '');
  // The largest prompt this backend has prefilled so far, for the first-token limit of longer ones.
  let observed: PrefillObservation | undefined;

  function limitsFor(testCase: Case, bytes: number): RequestTimeouts {
    return requestTimeouts({
      backendClass: options.backendClass,
      promptBytes: bytes,
      declaredTokens: testCase.requires?.contextTokens,
      streamed: testCase.params.stream === true,
      measured: observed,
      overrides: {
        connectTimeoutMs: options.connectTimeoutMs,
        firstByteTimeoutMs: options.firstByteTimeoutMs,
        firstTokenTimeoutMs: options.firstTokenTimeoutMs,
        idleTimeoutMs: options.idleTimeoutMs,
        requestTimeoutMs: options.requestTimeoutMs,
      },
    });
  }

  function learnPrefill(sample: Sample, bytes: number): void {
    const ttft = sample.timings.firstTokenMs;
    // A prompt-cache hit skips the prefill it would be measuring.
    if (sample.kind !== 'ok' || ttft === undefined || bytes < MIN_OBSERVED_PROMPT_BYTES || (sample.serverTimings?.cache_n ?? 0) > 0) return;
    if (!observed || bytes >= observed.promptBytes) observed = { promptBytes: bytes, prefillMs: ttft };
  }

  function tooLarge(url: string): string {
    return `${backend}'s answer from ${shownUrl(url)} passed the body cap of ${describeBytes(maxBytes)} and was cut there; raise maxResponseBytes in ${backend}'s config if answers this large are expected`;
  }

  // Parsed once per endpoint, not per request: undici's top-level request() parses its URL every time, which
  // cost 30% of the client's CPU per request against a zero-delay server (0.123 against 0.087 ms, measured).
  const targets = new Map<string, { origin: string; path: string }>();
  const targetOf = (url: string) => {
    let target = targets.get(url);
    if (!target) {
      const parsed = new URL(url);
      target = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
      targets.set(url, target);
    }
    return target;
  };

  async function attempt(url: string, body: string, testCase: Case, limits: RequestTimeouts, signal: AbortSignal | undefined): Promise<Attempt> {
    const streamed = testCase.params.stream === true;
    // Aborted by the watchdog or by the caller (abort-relay.ts says why not AbortSignal.any).
    const controller = new AbortController();
    const watchdog = startWatchdog(limits, streamed, () => controller.abort());
    const stopRelay = signal ? onAbort(signal, () => controller.abort(signal.reason)) : undefined;
    const aborted = controller.signal;
    const t0 = performance.now();
    const elapsed = (): number => performance.now() - t0;

    // Trouble after sending: a limit running out, the caller giving up, or the connection failing.
    function failure(err: unknown, partial?: PartialAnswer, firstByteMs?: number): Attempt {
      const timings: SampleTimings = { ...(partial?.timings ?? { chunkMs: [] }), endMs: elapsed() };
      if (firstByteMs !== undefined) timings.firstByteMs = firstByteMs;
      const sample = { ...emptySample(streamed, timings), ...partial, timings };
      const code = errorCode(err);
      const shown = shownUrl(url);
      if (watchdog.fired) {
        const message = timeoutMessage(watchdog.fired, backend, shown, limits, streamed, watchdog.bodyStarted);
        return { sample: { ...sample, kind: 'timeout', error: { message, code: `${watchdog.fired}-timeout` } }, retryable: false };
      }
      if (signal?.aborted) {
        return { sample: { ...sample, kind: 'crash', error: { message: `request to ${backend} at ${shown} was aborted: ${String(signal.reason)}` } }, retryable: false };
      }
      if (code === 'UND_ERR_CONNECT_TIMEOUT') {
        const message = `${backend} did not accept a connection at ${shown} within ${limits.connectMs} ms (the connect limit; raise connectTimeoutMs)`;
        return { sample: { ...sample, kind: 'timeout', error: { message, code: 'connect-timeout' } }, retryable: true };
      }
      // A bad HTTP message is the server breaking protocol; a dropped connection is the server going away.
      // undici reports a close and a reset mid-body alike, so both count as going away, keeping what arrived.
      const connection = code !== undefined && (CONNECTION_CODES.has(code) || code.startsWith('E'));
      const kind = connection ? 'crash' : 'protocol-error';
      const what = !connection
        ? 'malformed HTTP response from'
        : firstByteMs === undefined
          ? 'no answer from'
          : watchdog.bodyStarted
            ? 'connection lost mid-answer from'
            : 'connection lost after the headers, before any body, from';
      const message = `${what} ${backend} at ${shown}: ${errorText(err)}${code ? ` (${code})` : ''}`;
      const error = code ? { message, code } : { message };
      // Only a failure before any response is retried: a half-read answer may already have cost the server work.
      return { sample: { ...sample, kind, error }, retryable: firstByteMs === undefined && code !== undefined && CONNECTION_CODES.has(code) };
    }

    const onRead = (): void => {
      watchdog.read();
      watchdog.content();
    };

    try {
      let res;
      try {
        // undici's own header and body timers are off: the watchdog keeps one clock per phase, so it can say which ran out.
        const { origin, path } = targetOf(url);
        res = await dispatcher.request({ origin, path, method: 'POST', headers, body, signal: aborted, headersTimeout: 0, bodyTimeout: 0 });
      } catch (err) {
        return failure(err);
      }
      watchdog.headers();
      const firstByteMs = elapsed();
      const contentType = String(res.headers['content-type'] ?? '');

      if (res.statusCode < 200 || res.statusCode >= 300) {
        let read;
        try {
          read = await readBounded(res.body, maxBytes, onRead);
        } catch (err) {
          return failure(err, undefined, firstByteMs);
        }
        const timings = { firstByteMs, chunkMs: [], endMs: elapsed() };
        if (read.truncated) {
          const error = { message: tooLarge(url), status: res.statusCode, code: 'body-too-large' };
          return { sample: { ...emptySample(streamed, timings), kind: 'protocol-error', error }, retryable: false };
        }
        const text = Buffer.from(read.bytes).toString('utf8');
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        const server = serverErrorOf(parsed);
        const message = server?.message ?? (text.trim() !== '' ? text.trim().slice(0, 500) : `HTTP ${res.statusCode}`);
        const error = server?.code ? { message, status: res.statusCode, code: server.code } : { message, status: res.statusCode };
        const sample = { ...emptySample(streamed, timings), kind: 'http-error' as const, error };
        const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
        return { sample, retryable: RETRY_STATUSES.has(res.statusCode), ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
      }

      if (/^\s*text\/event-stream/i.test(contentType)) {
        const parser = createSseParser();
        const accumulator = createStreamAccumulator(httpEndpoint(testCase));
        let bodyError: unknown;
        let received = 0;
        let truncated = false;
        try {
          for await (const raw of res.body) {
            // Events in one network read arrived together; they share its arrival time.
            const now = elapsed();
            watchdog.read();
            let chunk = raw as Uint8Array;
            if (received + chunk.length > maxBytes) {
              chunk = chunk.subarray(0, maxBytes - received);
              truncated = true;
            }
            received += chunk.length;
            for (const event of parser.push(chunk)) if (accumulator.onData(event.data, now)) watchdog.content();
            if (truncated) break;
          }
        } catch (err) {
          bodyError = err ?? new Error('stream failed');
        }
        const { trailing } = parser.finish();
        const result = accumulator.finish(elapsed(), { trailing });
        if (!streamed) result.deviations.push('stream-not-requested');
        const timings = { firstByteMs, ...result.timings };
        if (truncated) return { sample: { ...emptySample(streamed, timings), ...result, timings, kind: 'protocol-error', error: { message: tooLarge(url), code: 'body-too-large' } }, retryable: false };
        if (bodyError !== undefined) return failure(bodyError, result, firstByteMs);
        return { sample: extend(emptySample(streamed, timings), extend(result, { timings })), retryable: false };
      }

      let read;
      try {
        read = await readBounded(res.body, maxBytes, onRead);
      } catch (err) {
        return failure(err, undefined, firstByteMs);
      }
      const timings = { firstByteMs, chunkMs: [], endMs: elapsed() };
      if (read.truncated) {
        const start = Buffer.from(read.bytes.subarray(0, 200)).toString('utf8');
        const error = { message: `${tooLarge(url)}; it began: ${start}`, code: 'body-too-large' };
        return { sample: { ...emptySample(streamed, timings), kind: 'protocol-error', error }, retryable: false };
      }
      const result = normalizeCompletion(Buffer.from(read.bytes).toString('utf8'), httpEndpoint(testCase));
      // Asked to stream, a server that answers in one piece leaves the timing checks nothing to measure.
      if (streamed) result.deviations.push('stream-ignored');
      return { sample: extend(emptySample(streamed, timings), result), retryable: false };
    } finally {
      watchdog.dispose();
      stopRelay?.();
    }
  }

  return {
    backend,
    timeoutsFor: (testCase) => limitsFor(testCase, promptBytes(testCase)),
    async run(testCase: Case, runOptions: RunCaseOptions = {}): Promise<Sample> {
      const { signal } = runOptions;
      const startedAt = new Date().toISOString();
      const url = `${baseUrl}/${testCase.endpoint === 'chat' ? 'chat/completions' : 'completions'}`;
      const requestDeviations: string[] = [];
      const body = JSON.stringify(requestBody(model, testCase, options.topLogprobsCap, requestDeviations));
      const bytes = promptBytes(testCase);
      let retries = 0;
      for (;;) {
        const limits = limitsFor(testCase, bytes);
        const outcome = await attempt(url, body, testCase, limits, signal);
        await connectionReleased();
        const backoff = baseDelayMs * 2 ** retries;
        const delay = outcome.retryAfterMs ?? backoff / 2 + (Math.random() * backoff) / 2;
        // Waiting longer than a whole request may take would stall the run more than the failure does.
        const worthRetrying = outcome.retryable && retries < maxRetries && delay <= limits.totalMs && !signal?.aborted;
        if (!worthRetrying) {
          const sample: Sample = extend(outcome.sample, { startedAt, retries, deviations: [...requestDeviations, ...outcome.sample.deviations] });
          if ((sample.kind === 'crash' || sample.kind === 'timeout') && retries > 0 && sample.error) sample.error = { ...sample.error, message: `${sample.error.message}; gave up after ${retries} retries` };
          learnPrefill(sample, bytes);
          return redactSecrets(sample, secrets);
        }
        await abortableSleep(delay, signal);
        retries++;
      }
    },
  };
}
