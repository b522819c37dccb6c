// What `conform serve` says about itself on /metrics, in the Prometheus text format, with llama.cpp's
// names (llama-server --metrics) wherever llama.cpp has one, so one vocabulary reads both servers; TTFT,
// which llama.cpp does not export, under conform's own prefix.

/** Buckets in seconds, vLLM's TTFT buckets: from a tiny model's milliseconds to a long prompt's minute. */
const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80];

export interface RequestMetrics {
  /** The engine has given this request a sequence: it is processing, no longer deferred. */
  started(promptTokens: number): void;
  /** A token was generated. */
  token(): void;
  /** The first chunk carrying content was written to a stream. */
  firstStreamedToken(): void;
  /** The request ended, whatever the outcome. */
  done(): void;
}

export interface EngineMetricsRegistry {
  /** A request arrived; call the returned hooks as it advances. */
  request(): RequestMetrics;
  /** The exposition text for GET /metrics. */
  render(): string;
}

/** Counters and gauges of one engine; `now` in seconds (performance.now() / 1000 by default), `contextSize` for KV use. */
export function createEngineMetrics(contextSize: number, now: () => number = () => performance.now() / 1000): EngineMetricsRegistry {
  let promptTokens = 0;
  let promptSeconds = 0;
  let predictedTokens = 0;
  let predictedSeconds = 0;
  let deferred = 0;
  let processing = 0;
  let kvTokens = 0;
  const ttftBuckets = TTFT_BUCKETS.map(() => 0);
  let ttftCount = 0;
  let ttftSum = 0;

  return {
    request() {
      const arrived = now();
      let startedAt: number | undefined;
      let firstTokenAt: number | undefined;
      let lastTokenAt: number | undefined;
      let prompt = 0;
      let generated = 0;
      let streamedFirst = false;
      let ended = false;
      deferred++;
      return {
        started(tokens) {
          if (startedAt !== undefined || ended) return;
          startedAt = now();
          prompt = tokens;
          deferred--;
          processing++;
          kvTokens += tokens;
        },
        token() {
          if (startedAt === undefined || ended) return;
          const t = now();
          if (firstTokenAt === undefined) {
            firstTokenAt = t;
            // The prompt was evaluated between getting a sequence and the first token.
            promptTokens += prompt;
            promptSeconds += t - startedAt;
          }
          predictedTokens++;
          lastTokenAt = t;
          generated++;
          kvTokens++;
        },
        firstStreamedToken() {
          if (streamedFirst || ended) return;
          streamedFirst = true;
          const seconds = now() - arrived;
          ttftCount++;
          ttftSum += seconds;
          TTFT_BUCKETS.forEach((le, i) => {
            if (seconds <= le) ttftBuckets[i]!++;
          });
        },
        done() {
          if (ended) return;
          ended = true;
          if (startedAt === undefined) deferred--;
          else {
            processing--;
            kvTokens -= prompt + generated;
            if (firstTokenAt !== undefined && lastTokenAt !== undefined) predictedSeconds += lastTokenAt - firstTokenAt;
          }
        },
      };
    },
    render() {
      const lines: string[] = [];
      const metric = (name: string, type: string, help: string, value: number) => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${Number.isFinite(value) ? Number(value.toPrecision(12)) : 0}`);
      metric('llamacpp:prompt_tokens_total', 'counter', 'Number of prompt tokens processed, excluding cached tokens', promptTokens);
      // conform serve starts every request from an empty sequence, so nothing is ever taken from a cache.
      metric('llamacpp:prompt_tokens_cached_total', 'counter', 'Number of prompt tokens reused from the cache (always 0: every request starts from an empty sequence)', 0);
      metric('llamacpp:prompt_seconds_total', 'counter', 'Total time spent processing prompts', promptSeconds);
      metric('llamacpp:tokens_predicted_total', 'counter', 'Number of generation tokens processed', predictedTokens);
      metric('llamacpp:tokens_predicted_seconds_total', 'counter', 'Total time spent generating tokens', predictedSeconds);
      metric('llamacpp:prompt_tokens_seconds', 'gauge', 'Average prompt throughput in tokens/s', promptSeconds > 0 ? promptTokens / promptSeconds : 0);
      metric('llamacpp:predicted_tokens_seconds', 'gauge', 'Average generation throughput in tokens/s', predictedSeconds > 0 ? predictedTokens / predictedSeconds : 0);
      metric('llamacpp:requests_processing', 'gauge', 'Number of requests processing', processing);
      metric('llamacpp:requests_deferred', 'gauge', 'Number of requests deferred', deferred);
      // Names of llama-server builds before mid-2025, which exported KV use.
      metric('llamacpp:kv_cache_tokens', 'gauge', 'KV-cache tokens in use', kvTokens);
      metric('llamacpp:kv_cache_usage_ratio', 'gauge', 'KV-cache usage. 1 = 100 percent usage', contextSize > 0 ? kvTokens / contextSize : 0);
      const ttft = 'conform:time_to_first_token_seconds';
      lines.push(`# HELP ${ttft} Time from a streamed request's arrival to writing its first content chunk`, `# TYPE ${ttft} histogram`);
      TTFT_BUCKETS.forEach((le, i) => lines.push(`${ttft}_bucket{le="${le}"} ${ttftBuckets[i]}`));
      lines.push(`${ttft}_bucket{le="+Inf"} ${ttftCount}`, `${ttft}_sum ${Number(ttftSum.toPrecision(12))}`, `${ttft}_count ${ttftCount}`);
      return `${lines.join('\n')}\n`;
    },
  };
}
