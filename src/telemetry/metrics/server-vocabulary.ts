// One table: each server family's Prometheus names, mapped to conform's vocabulary (EngineGauge,
// EngineCounter). Sources: each project's metrics documentation, ../shared/ANCHORS.md ("Manifest,
// telemetry, energy"), and llama-server 80fb11a's own /metrics (test/fixtures/metrics). Pure.

import type { EngineCounter, EngineGauge } from '../../core/telemetry-types.ts';
import type { MetricSample } from './prometheus-text.ts';

export type VocabularyEntry = EngineGauge | EngineCounter | 'prefixCacheHitRate';

/** A metric name, optionally restricted to series with these labels; matching series are combined by `combine`. */
interface Series {
  metric: string;
  where?: Record<string, string>;
}

/**
 * How one vocabulary entry is read: the first alternative whose metric exists wins (servers rename
 * metrics between releases). An alternative is a sum of series, or a ratio of two.
 */
type Reading = { sum: Series[] } | { ratio: [Series, Series] };

interface Family {
  name: string;
  /** Gauges that are fractions are averaged over series (data-parallel ranks); counts are summed. */
  entries: Partial<Record<VocabularyEntry, Reading[]>>;
}

const one = (metric: string, where?: Record<string, string>): Reading => ({ sum: [{ metric, ...(where && { where }) }] });

const LLAMA_CPP: Family['entries'] = {
  queueWaiting: [one('llamacpp:requests_deferred')],
  running: [one('llamacpp:requests_processing')],
  // Removed from llama-server in 2025 (absent in 80fb11a); older builds and conform serve report it.
  kvCacheUsage: [one('llamacpp:kv_cache_usage_ratio')],
  promptTokens: [one('llamacpp:prompt_tokens_total')],
  generatedTokens: [one('llamacpp:tokens_predicted_total')],
  prefixCacheHits: [one('llamacpp:prompt_tokens_cached_total')],
  // prompt_tokens_total excludes cached tokens, so the tokens looked up are both together.
  prefixCacheQueries: [{ sum: [{ metric: 'llamacpp:prompt_tokens_total' }, { metric: 'llamacpp:prompt_tokens_cached_total' }] }],
};

/** Every family conform knows, most specific first (conform serve speaks llama.cpp's names plus its own). */
export const SERVER_FAMILIES: readonly Family[] = [
  {
    name: 'conform serve',
    entries: {
      ...LLAMA_CPP,
      ttftSumSeconds: [one('conform:time_to_first_token_seconds_sum')],
      ttftCount: [one('conform:time_to_first_token_seconds_count')],
    },
  },
  {
    name: 'vLLM',
    entries: {
      queueWaiting: [one('vllm:num_requests_waiting')],
      running: [one('vllm:num_requests_running')],
      // A fraction despite the name ("1 means 100 percent usage"); gpu_cache_usage_perc before v0.10.
      kvCacheUsage: [one('vllm:kv_cache_usage_perc'), one('vllm:gpu_cache_usage_perc')],
      prefixCacheQueries: [one('vllm:prefix_cache_queries_total'), one('vllm:gpu_prefix_cache_queries_total')],
      prefixCacheHits: [one('vllm:prefix_cache_hits_total'), one('vllm:gpu_prefix_cache_hits_total')],
      promptTokens: [one('vllm:prompt_tokens_total')],
      generatedTokens: [one('vllm:generation_tokens_total')],
      ttftSumSeconds: [one('vllm:time_to_first_token_seconds_sum')],
      ttftCount: [one('vllm:time_to_first_token_seconds_count')],
    },
  },
  {
    name: 'SGLang',
    entries: {
      queueWaiting: [one('sglang:num_queue_reqs')],
      running: [one('sglang:num_running_reqs')],
      kvCacheUsage: [one('sglang:token_usage')],
      prefixCacheHitRate: [one('sglang:cache_hit_rate')],
      promptTokens: [one('sglang:prompt_tokens_total')],
      generatedTokens: [one('sglang:generation_tokens_total')],
      ttftSumSeconds: [one('sglang:time_to_first_token_seconds_sum')],
      ttftCount: [one('sglang:time_to_first_token_seconds_count')],
    },
  },
  {
    name: 'TGI',
    entries: {
      queueWaiting: [one('tgi_queue_size')],
      running: [one('tgi_batch_current_size')],
      promptTokens: [one('tgi_request_input_length_sum')],
      generatedTokens: [one('tgi_request_generated_tokens_sum')],
    },
  },
  { name: 'llama.cpp', entries: LLAMA_CPP },
  {
    name: 'OVMS',
    entries: {
      queueWaiting: [one('ovms_infer_req_queue_size')],
      running: [one('ovms_current_requests')],
    },
  },
  {
    name: 'Triton / TRT-LLM',
    entries: {
      queueWaiting: [one('nv_inference_pending_request_count')],
      kvCacheUsage: [{ ratio: [{ metric: 'nv_trt_llm_kv_cache_block_metrics', where: { kv_cache_block_type: 'used' } }, { metric: 'nv_trt_llm_kv_cache_block_metrics', where: { kv_cache_block_type: 'max' } }] }],
    },
  },
];

const FRACTIONS = new Set<VocabularyEntry>(['kvCacheUsage', 'prefixCacheHitRate']);

function matches(sample: MetricSample, series: Series): boolean {
  return sample.name === series.metric && Object.entries(series.where ?? {}).every(([k, v]) => sample.labels[k] === v);
}

function combine(values: number[], mean: boolean): number | undefined {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return undefined;
  const sum = finite.reduce((s, v) => s + v, 0);
  return mean ? sum / finite.length : sum;
}

function readSeries(samples: readonly MetricSample[], series: Series, mean: boolean): number | undefined {
  return combine(samples.filter((s) => matches(s, series)).map((s) => s.value), mean);
}

function read(samples: readonly MetricSample[], reading: Reading, mean: boolean): number | undefined {
  if ('ratio' in reading) {
    const top = readSeries(samples, reading.ratio[0], false);
    const bottom = readSeries(samples, reading.ratio[1], false);
    return top !== undefined && bottom !== undefined && bottom > 0 ? top / bottom : undefined;
  }
  const parts = reading.sum.map((s) => readSeries(samples, s, mean));
  return parts.every((p) => p === undefined) ? undefined : parts.reduce<number>((s, p) => s + (p ?? 0), 0);
}

const describe = (reading: Reading) =>
  'ratio' in reading
    ? reading.ratio.map((s) => `${s.metric}${s.where ? `{${Object.entries(s.where).map(([k, v]) => `${k}="${v}"`).join(',')}}` : ''}`).join(' / ')
    : reading.sum.map((s) => s.metric).join(' + ');

/** The family whose names appear most in a scrape (ties: the more specific, listed first), or undefined when none does. */
export function detectFamily(samples: readonly MetricSample[]): (typeof SERVER_FAMILIES)[number] | undefined {
  const names = new Set(samples.map((s) => s.name));
  let best: { family: Family; hits: number } | undefined;
  for (const family of SERVER_FAMILIES) {
    const metrics = new Set(Object.values(family.entries).flatMap((readings) => readings!.flatMap((r) => ('ratio' in r ? r.ratio : r.sum).map((s) => s.metric))));
    const hits = [...metrics].filter((m) => names.has(m)).length;
    // conform serve differs from llama.cpp only by its own names: count it only when one is there.
    if (family.name === 'conform serve' && ![...names].some((n) => n.startsWith('conform:'))) continue;
    if (hits > 0 && (!best || hits > best.hits)) best = { family, hits };
  }
  return best?.family;
}

/** One scrape read in the vocabulary: each entry's value and the metric it came from. */
export function readVocabulary(samples: readonly MetricSample[], family: Family): { values: Partial<Record<VocabularyEntry, number>>; sources: Partial<Record<VocabularyEntry, string>> } {
  const values: Partial<Record<VocabularyEntry, number>> = {};
  const sources: Partial<Record<VocabularyEntry, string>> = {};
  for (const [entry, readings] of Object.entries(family.entries) as Array<[VocabularyEntry, Reading[]]>) {
    for (const reading of readings) {
      const value = read(samples, reading, FRACTIONS.has(entry));
      if (value === undefined) continue;
      values[entry] = value;
      sources[entry] = describe(reading);
      break;
    }
  }
  return { values, sources };
}
