// Throughput, cost, energy and engine telemetry: the shapes a backend's config asks for and the run
// record carries (BackendRun.telemetry, docs/run-record.md). Pure data, like types.ts.

/** Where a backend's power is read from; `auto` picks by class and by what this machine has. */
export type PowerSourceName = 'auto' | 'rapl' | 'nvidia-smi' | 'rocm-smi' | 'amd-smi' | 'npu-smi' | 'hl-smi' | 'none';

/** The sources that really measure something (every name but `auto` and `none`). */
export type MeasuringPowerSource = Exclude<PowerSourceName, 'auto' | 'none'>;

export const POWER_SOURCES: readonly PowerSourceName[] = ['auto', 'rapl', 'nvidia-smi', 'rocm-smi', 'amd-smi', 'npu-smi', 'hl-smi', 'none'];

/**
 * What a backend costs. Either a machine price (`perHour`, the cost of the whole machine for an hour,
 * whatever it serves) or an API price per 1K tokens (`per1kInput` and `per1kOutput`).
 */
export interface CostConfig {
  perHour?: number;
  per1kInput?: number;
  per1kOutput?: number;
  /** @default 'USD' */
  currency?: string;
  /** Shown next to every cost figure, e.g. "example price, not a quote". */
  note?: string;
}

export interface PowerConfig {
  /** @default 'auto' */
  source?: PowerSourceName;
  /** Power usage effectiveness of the site: facility energy over device energy. @default 1 */
  pue?: number;
  /** Energy price, in the cost currency, per kWh; without it no energy cost is given. */
  pricePerKWh?: number;
}

export interface MetricsConfig {
  /** The full URL of the Prometheus endpoint (Triton serves it on its own port, 8002). @default the preset's path on the base URL's origin, else /metrics */
  url?: string;
  /** Milliseconds between scrapes while the backend runs; one more is taken before and after. @default 250 */
  intervalMs?: number;
}

/** One request as the run loop saw it, kept only long enough to derive the figures below. */
export interface RequestRecord {
  caseId: string;
  /** Epoch milliseconds (performance.timeOrigin + performance.now()) when the request was handed to the runner, and when its answer was complete. */
  startMs: number;
  endMs: number;
  ok: boolean;
  streamed: boolean;
  /** Client-measured time to the first content-carrying chunk, relative to the request. */
  ttftMs?: number;
  promptTokens?: number;
  completionTokens?: number;
  /** Prompt tokens the server says it took from its cache (llama.cpp `timings.cache_n`). */
  cachedPromptTokens?: number;
  /** The request body's identity: equal for repeats of the same request. */
  fingerprint: string;
}

/** Tokens per second over the steady-state requests (every successful one but the first). */
export interface Throughput {
  /** Requests counted: successful, with usage, after the first request. */
  requests: number;
  /** Requests in flight at once at the busiest moment (the configured concurrency, or more: a suite's concurrent repeats). */
  maxInFlight: number;
  inputTokens: number;
  outputTokens: number;
  /** Time at least one counted request was in flight, in milliseconds. */
  busyMs: number;
  /** (input + output) tokens over busy time. */
  tokensPerSecond: number | null;
  outputTokensPerSecond: number | null;
  /** Uncached prompt tokens over client TTFT, summed over streamed requests. */
  prefillTokensPerSecond: number | null;
  /** Output tokens after the first over (end-to-end − TTFT), summed over streamed requests. */
  decodeTokensPerSecond: number | null;
  streamedRequests: number;
  /** Why a figure above is null. */
  reason?: string;
}

export interface CostFigures {
  currency: string;
  basis: 'per-hour' | 'per-token';
  perHour?: number;
  per1kInput?: number;
  per1kOutput?: number;
  /** Cost of 1,000 tokens, input and output together, at the run's concurrency. */
  per1kTokens: number | null;
  /** Cost of 1,000 output tokens, the input they needed included. */
  per1kOutputTokens: number | null;
  note?: string;
  reason?: string;
}

export interface EnergyFigures {
  /** What the config asked for. */
  requested: PowerSourceName;
  /** What measured: a source, or `none`. */
  source: MeasuringPowerSource | 'none';
  method?: 'counter' | 'integrated-power';
  /** What was measured, e.g. "RAPL package-0" or "GPU 0". */
  device?: string;
  /** Device energy over the backend's whole request phase; null (never 0) when nothing could be measured. */
  joules: number | null;
  /** Output tokens of every request in that phase, the first one included. */
  outputTokens: number;
  joulesPerOutputToken: number | null;
  pue: number;
  pricePerKWh?: number;
  currency?: string;
  /** 1000 × J/token ÷ 3.6e6 × price × PUE; absent without a price. */
  energyCostPer1kTokens?: number | null;
  samples: number;
  durationMs: number;
  /** Why joules is null, or what limits the figure. */
  reason?: string;
  /** Cumulative joules at offsets (ms) from the telemetry window's start, for per-request figures. */
  series?: Array<[number, number]>;
}

/** The one vocabulary every server's Prometheus names are mapped to (src/telemetry/metrics/server-vocabulary.ts). */
export type EngineGauge = 'queueWaiting' | 'running' | 'kvCacheUsage';
export type EngineCounter = 'promptTokens' | 'generatedTokens' | 'prefixCacheHits' | 'prefixCacheQueries' | 'ttftSumSeconds' | 'ttftCount';

export interface EngineMetrics {
  /** The endpoint, credentials and query removed. */
  url: string;
  /** The server family its names belong to, e.g. "llama.cpp" or "vLLM"; null when none was recognised. */
  family: string | null;
  intervalMs: number;
  scrapes: number;
  failedScrapes: number;
  /** Why there is nothing (or little) to show: the first failure, or no known name. */
  reason?: string;
  /** Which server metric fed each vocabulary entry. */
  sources: Partial<Record<EngineGauge | EngineCounter | 'prefixCacheHitRate', string>>;
  /** Offsets in ms from the window's start, and each gauge at those times (null where the scrape lacked it). */
  series: { t: number[] } & Partial<Record<EngineGauge, Array<number | null>>>;
  summary: {
    queueWaitingMax?: number;
    queueWaitingMean?: number;
    runningMax?: number;
    kvCacheUsageMax?: number;
    kvCacheUsageMean?: number;
    /** Counter increases between the first and the last scrape. */
    promptTokens?: number;
    generatedTokens?: number;
    prefixCacheHits?: number;
    prefixCacheQueries?: number;
    /** SGLang reports a hit rate, not counters: its last value. */
    prefixCacheHitRate?: number;
    ttftCount?: number;
    ttftMeanMs?: number;
  };
}

/** A comparison of what the engine reported with what conform measured. */
export interface CrossCheck {
  check: 'engine-ttft' | 'prefix-cache';
  /** `flagged` is a measurement problem on one side (or a cache that does not hit): worth a line, never a verdict. */
  status: 'agrees' | 'flagged' | 'not-checked';
  message: string;
}

/** Everything telemetry adds to a backend's row in the run record. */
export interface BackendTelemetry {
  /** Requests in flight at once, as configured; every figure below holds at this concurrency. */
  concurrency: number;
  /** The request phase the figures cover: when it began (ISO) and how long it lasted. */
  window: { startedAt: string; durationMs: number };
  throughput: Throughput;
  cost?: CostFigures;
  energy: EnergyFigures;
  metrics?: EngineMetrics;
  crossChecks: CrossCheck[];
}
