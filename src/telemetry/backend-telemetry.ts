// The one hook the run loop calls: open a telemetry window beside a backend once it is up, see every
// request through `observe`, and close the window after the last request. Power sampling and /metrics
// scraping run beside the backend in the meantime; the figures are derived by pure code at the end.

import type { Dispatcher } from 'undici';
import { createHash } from 'node:crypto';
import type { BackendConfig, Case, Sample } from '../core/types.ts';
import type { BackendTelemetry, RequestRecord } from '../core/telemetry-types.ts';
import { presetOf } from '../runners/presets.ts';
import type { Runner } from '../runners/runner.ts';
import { deriveTelemetry } from './derive-telemetry.ts';
import { createNodePowerIo, telemetryNow } from './energy/node-power-io.ts';
import type { PowerIo } from './energy/power-source.ts';
import { startPowerSession } from './energy/power-sources.ts';
import { startMetricsScraper } from './metrics/metrics-scraper.ts';

export interface BackendTelemetryOptions {
  backend: BackendConfig;
  /** The OpenAI base URL the backend answers on, including /v1. */
  baseUrl: string;
  apiKey?: string;
  /** The environment power tools run with; read by the CLI, handed down. */
  env: NodeJS.ProcessEnv;
  /** Where power is read from; the real machine by default. */
  powerIo?: PowerIo;
  /** The backend's connection pool, shared with the probe and the runner. */
  dispatcher?: Dispatcher;
  /** The run's signal. */
  signal?: AbortSignal;
}

export interface BackendTelemetrySession {
  /** The same runner, with every request it sends noted for the figures. */
  observe(runner: Runner): Runner;
  /** Closes the window and derives the figures; undefined only if deriving them failed (the run goes on without). */
  finish(): Promise<BackendTelemetry | undefined>;
}

/** The Prometheus endpoint to scrape for a backend and whether its API key may go there, or undefined when scraping is off. */
export function metricsTarget(backend: BackendConfig, baseUrl: string): { url: string; sameOrigin: boolean } | undefined {
  if (backend.metrics === false) return undefined;
  const origin = new URL(baseUrl).origin;
  // A URL that does not parse is scraped anyway, so that its failure is what the report says.
  const originOf = (url: string) => URL.canParse(url) ? new URL(url).origin : undefined;
  if (backend.metrics?.url) return { url: backend.metrics.url, sameOrigin: originOf(backend.metrics.url) === origin };
  const preset = presetOf(backend);
  if (preset?.metricsPath === null) return undefined;
  return { url: `${origin}${preset?.metricsPath ?? '/metrics'}`, sameOrigin: true };
}

/** The URL as it may appear in a report: no credentials, no query. */
function shownUrl(url: string): string {
  if (!URL.canParse(url)) return url.replace(/\/\/[^/@]*@/, '//').split('?')[0]!;
  const u = new URL(url);
  u.username = '';
  u.password = '';
  u.search = '';
  return u.toString();
}

function fingerprint(testCase: Case): string {
  return createHash('sha256').update(JSON.stringify([testCase.endpoint, testCase.messages ?? null, testCase.prompt ?? null, testCase.params])).digest('hex').slice(0, 16);
}

function recordOf(testCase: Case, sample: Sample, startMs: number, endMs: number): RequestRecord {
  const cached = sample.serverTimings?.cache_n;
  return {
    caseId: testCase.id,
    startMs,
    endMs,
    ok: sample.kind === 'ok',
    streamed: sample.streamed,
    ...(sample.timings.firstTokenMs !== undefined && { ttftMs: sample.timings.firstTokenMs }),
    ...(sample.usage && { promptTokens: sample.usage.promptTokens, completionTokens: sample.usage.completionTokens }),
    ...(typeof cached === 'number' && Number.isFinite(cached) && { cachedPromptTokens: cached }),
    fingerprint: fingerprint(testCase),
  };
}

/** Opens a backend's telemetry window: the first /metrics scrape and power sampling start before this resolves. */
export async function startBackendTelemetry(options: BackendTelemetryOptions): Promise<BackendTelemetrySession> {
  const { backend } = options;
  const target = metricsTarget(backend, options.baseUrl);
  const [power, scraper] = await Promise.all([
    startPowerSession({ source: backend.power?.source, backendClass: backend.class, baseUrl: backend.baseUrl, io: options.powerIo ?? createNodePowerIo({ env: options.env }) }),
    target
      ? startMetricsScraper({
          url: target.url,
          intervalMs: backend.metrics ? backend.metrics.intervalMs : undefined,
          headers: target.sameOrigin && options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : undefined,
          // Another origin's metrics need a pool of their own; the backend's serves only its origin well.
          dispatcher: target.sameOrigin ? options.dispatcher : undefined,
          signal: options.signal,
        })
      : undefined,
  ]);
  const start = telemetryNow();
  const records: RequestRecord[] = [];
  let closed = false;
  let finished: Promise<BackendTelemetry | undefined> | undefined;
  return {
    observe(runner) {
      return {
        backend: runner.backend,
        async run(testCase, runOptions) {
          const startMs = telemetryNow();
          const sample = await runner.run(testCase, runOptions);
          if (!closed) records.push(recordOf(testCase, sample, startMs, telemetryNow()));
          return sample;
        },
      };
    },
    finish() {
      finished ??= (async () => {
        closed = true;
        const end = telemetryNow();
        const [energy, scrapes] = await Promise.all([power.stop(), scraper?.stop()]);
        try {
          return deriveTelemetry({
            concurrency: backend.concurrency ?? 1,
            start,
            end,
            records,
            cost: backend.cost,
            power: backend.power,
            energy,
            ...(target && scrapes && { metrics: { url: shownUrl(target.url), intervalMs: scraper!.intervalMs, scrapes } }),
          });
        } catch {
          // Telemetry is an addition to the run, never a reason to lose its verdicts and reports.
          return undefined;
        }
      })();
      return finished;
    },
  };
}
