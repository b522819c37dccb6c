// From a window's raw measurements to the run record's telemetry: metric series and counter increases,
// the two cross-checks, and energy per token, on synthetic inputs whose answers are known.

import { describe, expect, it } from 'vitest';
import type { RequestRecord } from '../../src/core/telemetry-types.ts';
import { engineTtftCheck, prefixCacheChecks } from '../../src/telemetry/cross-checks.ts';
import { deriveTelemetry } from '../../src/telemetry/derive-telemetry.ts';
import { counterIncrease, MAX_SERIES_POINTS, summarizeMetrics, vocabularyPoints, type Scrape } from '../../src/telemetry/metrics/metrics-summary.ts';
import { parsePrometheusText } from '../../src/telemetry/metrics/prometheus-text.ts';

const T0 = 1_700_000_000_000;

function llamaScrape(t: number, values: { deferred?: number; processing?: number; cached?: number; prompt?: number; kv?: number; ttftSum?: number; ttftCount?: number }): Scrape {
  const lines = [
    `llamacpp:requests_deferred ${values.deferred ?? 0}`,
    `llamacpp:requests_processing ${values.processing ?? 0}`,
    `llamacpp:prompt_tokens_total ${values.prompt ?? 0}`,
    `llamacpp:prompt_tokens_cached_total ${values.cached ?? 0}`,
    `llamacpp:kv_cache_usage_ratio ${values.kv ?? 0}`,
    `conform:time_to_first_token_seconds_sum ${values.ttftSum ?? 0}`,
    `conform:time_to_first_token_seconds_count ${values.ttftCount ?? 0}`,
  ];
  return { t, parsed: parsePrometheusText(lines.join('\n')) };
}

function request(caseId: string, startMs: number, endMs: number, extra: Partial<RequestRecord> = {}): RequestRecord {
  return { caseId, startMs: T0 + startMs, endMs: T0 + endMs, ok: true, streamed: true, ttftMs: 10, promptTokens: 50, completionTokens: 8, fingerprint: caseId, ...extra };
}

describe('summarizeMetrics', () => {
  const scrapes = [
    llamaScrape(T0, { prompt: 100 }),
    llamaScrape(T0 + 250, { deferred: 2, processing: 1, prompt: 150, kv: 0.5, ttftSum: 0.02, ttftCount: 2 }),
    { t: T0 + 500, error: 'HTTP 503 from http://x/metrics' },
    llamaScrape(T0 + 750, { deferred: 0, processing: 1, prompt: 40, kv: 0.25, ttftSum: 0.01, ttftCount: 1 }),
  ];

  it('keeps gauges over time and counter increases; a counter that drops restarted', () => {
    const metrics = summarizeMetrics(scrapes, vocabularyPoints(scrapes), { url: 'http://x/metrics', intervalMs: 250, windowStart: T0 });
    expect(metrics).toMatchObject({ family: 'conform serve', scrapes: 4, failedScrapes: 1, reason: '1 of 4 scrapes failed, the first: HTTP 503 from http://x/metrics' });
    expect(metrics.series).toEqual({ t: [0, 250, 750], queueWaiting: [0, 2, 0], running: [0, 1, 1], kvCacheUsage: [0, 0.5, 0.25] });
    // 100 → 150 is +50; the drop to 40 is a restart, +40.
    expect(metrics.summary).toMatchObject({ queueWaitingMax: 2, runningMax: 1, kvCacheUsageMax: 0.5, promptTokens: 90, ttftCount: 3, prefixCacheHits: 0 });
    expect(counterIncrease([undefined, 5])).toBe(0);
    expect(counterIncrease([])).toBeUndefined();
  });

  it('says why when every scrape failed or nothing was recognised', () => {
    const failed = [{ t: T0, error: 'HTTP 404 from http://x/metrics' }];
    expect(summarizeMetrics(failed, vocabularyPoints(failed), { url: 'u', intervalMs: 250, windowStart: T0 }).reason).toBe('every scrape failed: HTTP 404 from http://x/metrics');
    const unknown = [{ t: T0, parsed: parsePrometheusText('up 1') }];
    expect(summarizeMetrics(unknown, vocabularyPoints(unknown), { url: 'u', intervalMs: 250, windowStart: T0 })).toMatchObject({ family: null, reason: expect.stringMatching(/no metric name conform knows/) });
  });

  it('thins a long series to its peaks', () => {
    const many = Array.from({ length: 3000 }, (_, i) => llamaScrape(T0 + i * 250, { deferred: i === 1234 ? 9 : 0 }));
    const metrics = summarizeMetrics(many, vocabularyPoints(many), { url: 'u', intervalMs: 250, windowStart: T0 });
    expect(metrics.series.t.length).toBeLessThanOrEqual(MAX_SERIES_POINTS);
    expect(Math.max(...(metrics.series.queueWaiting as number[]))).toBe(9);
  });
});

describe('cross-checks', () => {
  it('engine TTFT agrees when conform adds only the client overhead, and is flagged past it', () => {
    const records = [request('a', 0, 100, { ttftMs: 11 }), request('b', 200, 300, { ttftMs: 13 })];
    const metrics = (sum: number) => summarizeMetrics([llamaScrape(T0, {}), llamaScrape(T0 + 300, { ttftSum: sum, ttftCount: 2 })], vocabularyPoints([llamaScrape(T0, {}), llamaScrape(T0 + 300, { ttftSum: sum, ttftCount: 2 })]), { url: 'u', intervalMs: 250, windowStart: T0 });
    expect(engineTtftCheck(records, metrics(0.022))).toEqual({ check: 'engine-ttft', status: 'agrees', message: 'engine TTFT mean 11.0 ms, conform 12.0 ms over 2 streamed requests: conform adds 1.00 ms (request, loopback, parsing)' });
    expect(engineTtftCheck(records, metrics(0.002)).status).toBe('agrees'); // 11 ms gap: under the 25 ms floor
    const slow = [request('a', 0, 100, { ttftMs: 300 }), request('b', 200, 300, { ttftMs: 300 })];
    expect(engineTtftCheck(slow, metrics(0.2))).toMatchObject({ status: 'flagged', message: expect.stringContaining('more than client overhead explains') });
    expect(engineTtftCheck(records, metrics(0.2))).toMatchObject({ status: 'flagged', message: expect.stringContaining('which cannot be') });
    expect(engineTtftCheck(records, undefined).status).toBe('not-checked');
  });

  it('prefix cache: per-response cached tokens where given, else the counter over the repeats', () => {
    const repeats = [request('hit', 0, 100, { cachedPromptTokens: 0 }), request('hit', 100, 200, { cachedPromptTokens: 49 }), request('hit', 200, 300, { cachedPromptTokens: 49 })];
    expect(prefixCacheChecks(repeats, [], undefined)).toEqual([{ check: 'prefix-cache', status: 'agrees', message: 'hit: 3 identical requests in a row: the repeats took 98 of 100 prompt tokens from the cache (per response)' }]);
    const noCache = repeats.map((r) => ({ ...r, cachedPromptTokens: undefined }));
    const flat = [llamaScrape(T0, {}), llamaScrape(T0 + 500, {})];
    const read = vocabularyPoints(flat);
    const metrics = summarizeMetrics(flat, read, { url: 'u', intervalMs: 250, windowStart: T0 });
    expect(prefixCacheChecks(noCache, read.points, metrics)[0]).toMatchObject({ status: 'flagged', message: expect.stringMatching(/^hit: 3 identical requests in a row: prefix-cache hits did not rise .*llamacpp:prompt_tokens_cached_total \+0\) \(conform serve clears its sequence/) });
    const rising = [llamaScrape(T0, {}), llamaScrape(T0 + 500, { cached: 80 })];
    expect(prefixCacheChecks(noCache, vocabularyPoints(rising).points, summarizeMetrics(rising, vocabularyPoints(rising), { url: 'u', intervalMs: 250, windowStart: T0 }))[0]!.status).toBe('agrees');
  });

  it('only serial repeats of one request count: overlapping or different requests are not a cache test', () => {
    const concurrent = [request('c', 0, 100), request('c', 50, 150)];
    const different = [request('a', 0, 100), request('b', 100, 200)];
    // Two cases that send the same request (serial-8 then concurrent-8 in the determinism suite) are not one run of repeats.
    const sameBody = [request('serial', 300, 400, { fingerprint: 'sea' }), request('concurrent', 400, 500, { fingerprint: 'sea' })];
    expect(prefixCacheChecks([...concurrent, ...different, ...sameBody], [], undefined)).toEqual([]);
  });
});

describe('deriveTelemetry', () => {
  const records = [request('first', 0, 1000), request('a', 1000, 2000), request('b', 2000, 3000)];

  it('energy per output token from the series; cost from the config; nothing measured is null with the reason', () => {
    const telemetry = deriveTelemetry({
      concurrency: 1,
      start: T0,
      end: T0 + 3000,
      records,
      cost: { perHour: 1, note: 'example' },
      power: { pue: 1.2, pricePerKWh: 0.3 },
      energy: { requested: 'auto', source: 'rapl', method: 'counter', device: 'RAPL package-0', series: [[T0, 500], [T0 + 3000, 740]], samples: 2 },
    });
    expect(telemetry.energy).toMatchObject({ source: 'rapl', joules: 240, outputTokens: 24, joulesPerOutputToken: 10, pue: 1.2, pricePerKWh: 0.3, currency: 'USD', series: [[0, 0], [3000, 240]] });
    expect(telemetry.energy.energyCostPer1kTokens).toBeCloseTo(((1000 * 10) / 3.6e6) * 0.3 * 1.2, 15);
    expect(telemetry.cost).toMatchObject({ basis: 'per-hour', note: 'example' });
    expect(telemetry.throughput.requests).toBe(2);
    expect(telemetry.window).toEqual({ startedAt: new Date(T0).toISOString(), durationMs: 3000 });
    expect(telemetry.crossChecks).toEqual([]);

    const none = deriveTelemetry({ concurrency: 1, start: T0, end: T0 + 3000, records, power: { pricePerKWh: 0.3 }, energy: { requested: 'auto', source: 'none', series: [], samples: 0, reason: 'no /sys/class/powercap on this machine' } });
    expect(none.energy).toMatchObject({ joules: null, joulesPerOutputToken: null, energyCostPer1kTokens: null, reason: 'no /sys/class/powercap on this machine' });
    expect(none.cost).toBeUndefined();
  });
});
