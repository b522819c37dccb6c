import { request } from 'undici';

export interface WaitOptions {
  baseUrl: string;
  model: string;
  healthPath?: string;
  timeoutMs: number;
  exited: Promise<{ code?: number; signal?: string }>;
  signal?: AbortSignal;
  onProgress?: (line: string) => void;
  /** The backend's CPU wait so far (load-meter.ts): the deadline counts only its own time, so a busy machine slows a start without failing it. */
  cpuWaitMs?: () => number;
  /** The key the backend is called with: a server started with one (vLLM --api-key) refuses the first answer without it. */
  apiKey?: string;
}

export type WaitOutcome =
  | { state: 'ready'; healthyAt: number; answeredAt: number; firstAnswerTtftMs: number }
  | { state: 'failed'; reason: string };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// One overall deadline per request, with the caller's signal: undici's header and body timers restart on
// every byte, so a server dribbling one byte a second would never trip them.
function requestDeadline(ms: number, signal: AbortSignal | undefined): AbortSignal {
  const timeout = AbortSignal.timeout(Math.ceil(ms));
  return signal ? AbortSignal.any([timeout, signal]) : timeout;
}

async function healthy(baseUrl: string, healthPath: string | undefined, signal: AbortSignal | undefined, headers: Record<string, string>): Promise<boolean> {
  const origin = baseUrl.replace(/\/v1\/?$/, '');
  const urls = healthPath ? [`${origin}${healthPath}`] : [`${origin}/health`, `${baseUrl}/models`];
  for (const url of urls) {
    try {
      const { statusCode, body } = await request(url, { headers, headersTimeout: 2_000, bodyTimeout: 2_000, signal: requestDeadline(2_000, signal) });
      await body.dump();
      if (statusCode === 200) return true;
      if (statusCode !== 404) return false; // 503 while loading: keep waiting on this endpoint
    } catch {
      return false;
    }
  }
  return false;
}

/** One streamed token: the first request after ready pays for warm-up (Vulkan compiles pipelines here). */
async function firstAnswer(baseUrl: string, model: string, timeoutMs: number, signal: AbortSignal | undefined, auth: Record<string, string>): Promise<number> {
  const started = performance.now();
  const { statusCode, body } = await request(`${baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Hello' }], max_tokens: 1, temperature: 0, stream: true }),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    signal: requestDeadline(timeoutMs, signal),
  });
  let ttft: number | undefined;
  for await (const chunk of body) if (ttft === undefined && /"content":"[^"]/.test(String(chunk))) ttft = performance.now() - started;
  if (statusCode !== 200) throw new Error(`first request answered HTTP ${statusCode}`);
  return ttft ?? performance.now() - started;
}

/** Polls until the server is healthy and has answered one real request, or it exits, or time runs out. */
export async function waitUntilAnswering(options: WaitOptions): Promise<WaitOutcome> {
  const auth: Record<string, string> = options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {};
  const started = performance.now();
  const deadline = () => started + options.timeoutMs + (options.cpuWaitMs?.() ?? 0);
  let exitInfo: { code?: number; signal?: string } | undefined;
  void options.exited.then((info) => (exitInfo = info));
  let lastReport = performance.now();
  while (!(await healthy(options.baseUrl, options.healthPath, options.signal, auth))) {
    if (exitInfo) return { state: 'failed', reason: `process exited (code ${exitInfo.code ?? 'none'}${exitInfo.signal ? `, ${exitInfo.signal}` : ''}) before it was healthy` };
    if (options.signal?.aborted) return { state: 'failed', reason: 'interrupted' };
    if (performance.now() > deadline()) return { state: 'failed', reason: `not healthy after ${options.timeoutMs} ms${options.cpuWaitMs ? ` of its own time (${Math.round(performance.now() - started)} ms in all)` : ''}` };
    if (performance.now() - lastReport > 5_000) {
      options.onProgress?.('waiting for health');
      lastReport = performance.now();
    }
    await sleep(100);
  }
  const healthyAt = performance.now();
  options.onProgress?.('healthy; waiting for a first real answer');
  try {
    const firstAnswerTtftMs = await firstAnswer(options.baseUrl, options.model, Math.max(1_000, deadline() - healthyAt), options.signal, auth);
    return { state: 'ready', healthyAt, answeredAt: performance.now(), firstAnswerTtftMs };
  } catch (error) {
    if (options.signal?.aborted) return { state: 'failed', reason: 'interrupted' };
    if ((error as Error).name === 'TimeoutError')
      return { state: 'failed', reason: `healthy, but no first answer within the ${options.timeoutMs} ms ready limit (raise launch.readyTimeoutMs)` };
    return { state: 'failed', reason: `healthy, but the first request failed: ${(error as Error).message}` };
  }
}
