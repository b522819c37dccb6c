// Scrapes a backend's Prometheus endpoint beside the run: once before the first request, about every
// 250 ms while requests run, and once after the last. The edge of the metrics seam: HTTP through undici;
// parsing and the vocabulary are pure (prometheus-text.ts, server-vocabulary.ts).

import { setTimeout as delay } from 'node:timers/promises';
import { Agent, request, type Dispatcher } from 'undici';
import { connectionReleased } from '../../runners/connection-pool.ts';
import { telemetryNow } from '../energy/node-power-io.ts';
import type { Scrape } from './metrics-summary.ts';
import { parsePrometheusText } from './prometheus-text.ts';

export interface MetricsScraperOptions {
  url: string;
  /** @default 250 */
  intervalMs?: number;
  /** Sent only to the backend's own origin, never to a metrics URL elsewhere. */
  headers?: Record<string, string>;
  /** One scrape's limit; a server too busy to answer in time is a failed scrape, not a stalled run. @default 2000 */
  timeoutMs?: number;
  /** Largest body read. @default 8 MiB */
  maxBytes?: number;
  /** The backend's own connection pool, so scraping opens no connection of its own while a request is idle. @default a one-connection pool of the scraper's */
  dispatcher?: Dispatcher;
  /** The run's signal: an interrupted run stops scraping at once. */
  signal?: AbortSignal;
}

export interface MetricsScraper {
  readonly intervalMs: number;
  /** Stops the periodic scrapes, takes the last one, and hands back every scrape in order. */
  stop(): Promise<Scrape[]>;
}

/** Sends one GET to a Prometheus endpoint and parses the answer; never throws. */
export async function scrapeOnce(url: string, options: Pick<MetricsScraperOptions, 'headers' | 'timeoutMs' | 'maxBytes' | 'dispatcher' | 'signal'> = {}): Promise<Scrape> {
  const timeoutMs = options.timeoutMs ?? 2_000;
  const maxBytes = options.maxBytes ?? 8 * 1024 * 1024;
  // A whole-scrape deadline: a server that dribbles a byte at a time never trips the idle timeouts.
  const deadline = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([deadline, options.signal]) : deadline;
  try {
    const res = await request(url, { headers: { accept: 'text/plain', ...options.headers }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal, ...(options.dispatcher && { dispatcher: options.dispatcher }) });
    if (res.statusCode !== 200) {
      await res.body.dump();
      return { t: telemetryNow(), error: `HTTP ${res.statusCode} from ${url}${res.statusCode === 404 || res.statusCode === 501 ? ' (is the server started with its metrics switched on? llama-server needs --metrics, SGLang --enable-metrics)' : ''}` };
    }
    let size = 0;
    const chunks: Buffer[] = [];
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) {
        res.body.destroy();
        return { t: telemetryNow(), error: `${url} sent more than ${maxBytes} bytes` };
      }
      chunks.push(chunk as Buffer);
    }
    return { t: telemetryNow(), parsed: parsePrometheusText(Buffer.concat(chunks).toString('utf8')) };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return { t: telemetryNow(), error: `${url}: ${(error as Error).message}${typeof code === 'string' ? ` (${code})` : ''}` };
  }
}

/** Starts scraping: resolves after the first scrape, so the "before" reading precedes every request. */
export async function startMetricsScraper(options: MetricsScraperOptions): Promise<MetricsScraper> {
  const intervalMs = options.intervalMs ?? 250;
  // Kept-alive connections: a new TCP handshake every 250 ms would cost the backend more than the scrape.
  const own = options.dispatcher ? undefined : new Agent({ connections: 1, keepAliveTimeout: 10_000 });
  const dispatcher = options.dispatcher ?? own!;
  const once = async () => {
    const scrape = await scrapeOnce(options.url, { headers: options.headers, timeoutMs: options.timeoutMs, maxBytes: options.maxBytes, dispatcher, signal: options.signal });
    // A shared pool gets its connection back a tick after the body ends; the next case must find it there.
    if (options.dispatcher) await connectionReleased();
    return scrape;
  };
  // Shared with the probe that just answered: wait until undici has its connection back, or the first scrape opens another.
  if (options.dispatcher) await connectionReleased();
  const scrapes: Scrape[] = [await once()];
  // No such endpoint (llama-server without --metrics answers 501, most servers 404): asking again every
  // 250 ms would only fill the server's log.
  const absent = /^HTTP (404|501) /.test(scrapes[0]!.error ?? '');
  const controller = new AbortController();
  if (absent || options.signal?.aborted) controller.abort();
  options.signal?.addEventListener('abort', () => controller.abort(), { once: true });
  const loop = (async () => {
    // The wait runs after each answer, so a slow server is never asked twice at once.
    while (!controller.signal.aborted) {
      await delay(intervalMs, undefined, { signal: controller.signal, ref: false }).catch(() => undefined);
      if (!controller.signal.aborted) scrapes.push(await once());
    }
  })();
  return {
    intervalMs,
    async stop() {
      controller.abort();
      await loop;
      if (!absent && !options.signal?.aborted) scrapes.push(await once());
      await own?.close();
      return scrapes;
    },
  };
}
