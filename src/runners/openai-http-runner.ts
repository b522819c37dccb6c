// Runs a Case against any OpenAI-compatible HTTP server and turns whatever happens, including
// outages and broken streams, into a Sample: a conformance run must record trouble, not die of it.

import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { redactSecrets } from '../core/redact.ts';
import { abortableSleep } from './abortable-sleep.ts';
import type { Case, Sample, SampleTimings } from '../core/types.ts';
import { createStreamAccumulator, normalizeCompletion, serverErrorOf, type NormalizedResponse } from './normalize.ts';
import type { RunCaseOptions, Runner } from './runner.ts';
import { createSseParser } from './sse-parser.ts';

export interface OpenAiHttpRunnerOptions {
  backend: string;
  /** OpenAI-compatible base URL, including `/v1`. */
  baseUrl: string;
  model: string;
  apiKey?: string;
  /** Limit for one attempt, from sending to the end of the body. @default 120000 */
  requestTimeoutMs?: number;
  /** Limit for the TCP connection to open. @default 10000 */
  connectTimeoutMs?: number;
  /** Limit from sending to the response headers: a cold Vulkan start compiles pipelines here. @default requestTimeoutMs */
  firstByteTimeoutMs?: number;
  /** Longest silence allowed between two reads of the body, keep-alives included. @default 30000 */
  idleTimeoutMs?: number;
  /** @default 3 */
  maxRetries?: number;
  /** Largest top_logprobs the server accepts (from its preset); larger requests are clamped and the sample says so. */
  topLogprobsCap?: number;
  /** First backoff step; doubles per retry, with jitter. @default 500 */
  retryBaseDelayMs?: number;
}

// Statuses that mean "busy or restarting, try again"; llama.cpp answers bad requests with 500, so 500 is not one.
const RETRY_STATUSES = new Set([429, 502, 503, 504]);
// Failures to reach the server at all; a server that is restarting shows these for a moment.
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_CLOSED']);

type Attempt = { sample: Omit<Sample, 'retries' | 'startedAt'>; retryable: boolean; retryAfterMs?: number };

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

function requestBody(model: string, testCase: Case, topLogprobsCap: number | undefined, deviations: string[]): Record<string, unknown> {
  const body: Record<string, unknown> = { model };
  if (testCase.endpoint === 'chat' && testCase.messages !== undefined) body.messages = testCase.messages;
  if (testCase.endpoint === 'completion' && testCase.prompt !== undefined) body.prompt = testCase.prompt;
  Object.assign(body, testCase.params);
  if (testCase.endpoint === 'completion' && testCase.params.logprobs !== undefined) {
    // The completions API takes `logprobs` as the number of alternatives, not a flag.
    delete body.top_logprobs;
    if (testCase.params.logprobs) body.logprobs = testCase.params.top_logprobs ?? 1;
    else delete body.logprobs;
  }
  if (testCase.params.stream === true) body.stream_options = { include_usage: true };
  const asked = testCase.params.top_logprobs;
  if (topLogprobsCap !== undefined && asked !== undefined && asked > topLogprobsCap) {
    body[testCase.endpoint === 'completion' ? 'logprobs' : 'top_logprobs'] = topLogprobsCap;
    deviations.push(`top-logprobs-capped:${asked}->${topLogprobsCap}`);
  }
  return body;
}

function emptySample(streamed: boolean, timings: SampleTimings): Omit<Sample, 'retries' | 'startedAt'> {
  return { kind: 'ok', text: '', tokens: [], toolCalls: [], finishReason: null, timings, streamed, deviations: [] };
}

/** A Runner for OpenAI-compatible servers (llama.cpp, vLLM, Ollama, …) over HTTP with retries and timeouts. */
export function createOpenAiHttpRunner(options: OpenAiHttpRunnerOptions): Runner {
  const { backend, model, apiKey } = options;
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.requestTimeoutMs ?? 120_000;
  const maxRetries = options.maxRetries ?? 3;
  const baseDelayMs = options.retryBaseDelayMs ?? 500;
  const firstByteTimeoutMs = options.firstByteTimeoutMs ?? timeoutMs;
  const idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
  const dispatcher = new Agent({ connect: { timeout: options.connectTimeoutMs ?? 10_000 } });
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (apiKey) headers.authorization = `Bearer ${apiKey}`;
  // Samples are written to reports and golden files; no secret may reach them, even echoed by a server.
  const urlPassword = decodeURIComponent(new URL(baseUrl).password);
  const secrets = [apiKey, urlPassword].filter((s): s is string => typeof s === 'string' && s !== '');

  // Messages name the URL without credentials or query, which may carry secrets of their own.
  function shownUrl(url: string): string {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    return u.toString();
  }

  async function attempt(url: string, body: string, testCase: Case, signal: AbortSignal | undefined): Promise<Attempt> {
    const streamed = testCase.params.stream === true;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const forwardAbort = (): void => controller.abort();
    signal?.addEventListener('abort', forwardAbort, { once: true });
    const t0 = performance.now();
    const elapsed = (): number => performance.now() - t0;

    // Trouble after sending: a timeout, the caller giving up, or the connection failing.
    function failure(err: unknown, partial?: NormalizedResponse & { timings?: SampleTimings }, firstByteMs?: number): Attempt {
      const timings: SampleTimings = { ...(partial?.timings ?? { chunkMs: [] }), endMs: elapsed() };
      if (firstByteMs !== undefined) timings.firstByteMs = firstByteMs;
      const sample = { ...emptySample(streamed, timings), ...partial, timings };
      const code = errorCode(err);
      if (timedOut) {
        return { sample: { ...sample, kind: 'timeout', error: { message: `${backend} did not finish answering ${shownUrl(url)} within ${timeoutMs} ms`, code: 'total-timeout' } }, retryable: false };
      }
      if (code === 'UND_ERR_HEADERS_TIMEOUT')
        return { sample: { ...sample, kind: 'timeout', error: { message: `${backend} sent no response headers for ${shownUrl(url)} within ${firstByteTimeoutMs} ms`, code: 'first-byte-timeout' } }, retryable: false };
      if (code === 'UND_ERR_BODY_TIMEOUT')
        return { sample: { ...sample, kind: 'timeout', error: { message: `${backend} went silent for more than ${idleTimeoutMs} ms mid-answer at ${shownUrl(url)}`, code: 'idle-timeout' } }, retryable: false };
      if (signal?.aborted) {
        return { sample: { ...sample, kind: 'crash', error: { message: `request to ${backend} at ${shownUrl(url)} was aborted: ${String(signal.reason)}` } }, retryable: false };
      }
      // A bad HTTP message is the server breaking protocol; a dropped connection is the server going away.
      // undici reports a close and a reset mid-body alike, so both count as going away, keeping what arrived.
      const connection = code !== undefined && (CONNECTION_CODES.has(code) || code.startsWith('E'));
      const kind = connection ? 'crash' : 'protocol-error';
      const what = !connection ? 'malformed HTTP response from' : firstByteMs === undefined ? 'no answer from' : 'connection lost mid-answer from';
      const message = `${what} ${backend} at ${shownUrl(url)}: ${errorText(err)}${code ? ` (${code})` : ''}`;
      const error = code ? { message, code } : { message };
      // Only a failure before any response is retried: a half-read answer may already have cost the server work.
      return { sample: { ...sample, kind, error }, retryable: firstByteMs === undefined && code !== undefined && CONNECTION_CODES.has(code) };
    }

    try {
      let res;
      try {
        res = await request(url, { method: 'POST', headers, body, signal: controller.signal, dispatcher, headersTimeout: firstByteTimeoutMs, bodyTimeout: idleTimeoutMs });
      } catch (err) {
        return failure(err);
      }
      const firstByteMs = elapsed();
      const contentType = String(res.headers['content-type'] ?? '');

      if (res.statusCode < 200 || res.statusCode >= 300) {
        let text = '';
        try {
          text = await res.body.text();
        } catch (err) {
          return failure(err, undefined, firstByteMs);
        }
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        const server = serverErrorOf(parsed);
        const message = server?.message ?? (text.trim() !== '' ? text.trim().slice(0, 500) : `HTTP ${res.statusCode}`);
        const error = server?.code ? { message, status: res.statusCode, code: server.code } : { message, status: res.statusCode };
        const sample = { ...emptySample(streamed, { firstByteMs, chunkMs: [], endMs: elapsed() }), kind: 'http-error' as const, error };
        const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
        return { sample, retryable: RETRY_STATUSES.has(res.statusCode), ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
      }

      if (/^\s*text\/event-stream/i.test(contentType)) {
        const parser = createSseParser();
        const accumulator = createStreamAccumulator(httpEndpoint(testCase));
        let bodyError: unknown;
        try {
          for await (const chunk of res.body) {
            // Events in one network read arrived together; they share its arrival time.
            const now = elapsed();
            for (const event of parser.push(chunk as Uint8Array)) accumulator.onData(event.data, now);
          }
        } catch (err) {
          bodyError = err ?? new Error('stream failed');
        }
        const { trailing } = parser.finish();
        const result = accumulator.finish(elapsed(), { trailing });
        if (!streamed) result.deviations.push('stream-not-requested');
        if (bodyError !== undefined) return failure(bodyError, result, firstByteMs);
        return { sample: { ...emptySample(streamed, result.timings), ...result, timings: { firstByteMs, ...result.timings } }, retryable: false };
      }

      let text: string;
      try {
        text = await res.body.text();
      } catch (err) {
        return failure(err, undefined, firstByteMs);
      }
      const result = normalizeCompletion(text, httpEndpoint(testCase));
      // Asked to stream, a server that answers in one piece leaves the timing checks nothing to measure.
      if (streamed) result.deviations.push('stream-ignored');
      return { sample: { ...emptySample(streamed, { firstByteMs, chunkMs: [], endMs: elapsed() }), ...result }, retryable: false };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', forwardAbort);
    }
  }

  return {
    backend,
    async run(testCase: Case, runOptions: RunCaseOptions = {}): Promise<Sample> {
      const { signal } = runOptions;
      const startedAt = new Date().toISOString();
      const url = `${baseUrl}/${testCase.endpoint === 'chat' ? 'chat/completions' : 'completions'}`;
      const requestDeviations: string[] = [];
      const body = JSON.stringify(requestBody(model, testCase, options.topLogprobsCap, requestDeviations));
      let retries = 0;
      for (;;) {
        const outcome = await attempt(url, body, testCase, signal);
        const backoff = baseDelayMs * 2 ** retries;
        const delay = outcome.retryAfterMs ?? backoff / 2 + (Math.random() * backoff) / 2;
        // Waiting longer than a whole request may take would stall the run more than the failure does.
        const worthRetrying = outcome.retryable && retries < maxRetries && delay <= timeoutMs && !signal?.aborted;
        if (!worthRetrying) {
          const sample: Sample = { ...outcome.sample, startedAt, retries, deviations: [...requestDeviations, ...outcome.sample.deviations] };
          if (sample.kind === 'crash' && retries > 0 && sample.error) sample.error = { ...sample.error, message: `${sample.error.message}; gave up after ${retries} retries` };
          return redactSecrets(sample, secrets);
        }
        await abortableSleep(delay, signal);
        retries++;
      }
    },
  };
}
