// The Prometheus parser and the one vocabulary, on a /metrics body recorded from the real llama-server and
// on bodies written from the other servers' documented names (test/fixtures/metrics/README.md).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePrometheusText } from '../../src/telemetry/metrics/prometheus-text.ts';
import { detectFamily, readVocabulary } from '../../src/telemetry/metrics/server-vocabulary.ts';
import { REPO } from '../helpers/conform-cli.ts';

const fixture = (name: string) => readFileSync(join(REPO, 'test', 'fixtures', 'metrics', name), 'utf8');

function vocabulary(name: string) {
  const { samples } = parsePrometheusText(fixture(name));
  const family = detectFamily(samples);
  if (!family) throw new Error(`${name}: no family recognised`);
  return { family: family.name, ...readVocabulary(samples, family) };
}

describe('parsePrometheusText', () => {
  it('reads names, labels with escapes, special values and timestamps, and skips what is not a sample', () => {
    const text = [
      '# HELP a_total A counter',
      '# TYPE a_total counter',
      'a_total 3',
      'b{x="1",y="with \\"quotes\\", a \\\\ and a\\nline"} 2.5e3 1700000000000',
      'c{le="+Inf"} +Inf',
      'd NaN',
      'e -Inf',
      'not a sample at all',
      'f{broken="x} 1',
      'g 12 # {trace_id="abc"} 1.0',
      '# EOF',
    ].join('\n');
    const parsed = parsePrometheusText(text);
    expect(parsed.types.get('a_total')).toBe('counter');
    expect(parsed.samples.map((s) => s.name)).toEqual(['a_total', 'b', 'c', 'd', 'e', 'g']);
    expect(parsed.samples[1]).toEqual({ name: 'b', labels: { x: '1', y: 'with "quotes", a \\ and a\nline' }, value: 2500 });
    expect(parsed.samples[2]!.value).toBe(Infinity);
    expect(Number.isNaN(parsed.samples[3]!.value)).toBe(true);
    expect(parsed.samples[4]!.value).toBe(-Infinity);
    expect(parsed.samples[5]!.value).toBe(12);
    expect(parsed.skipped).toBe(2);
  });

  it('reads every sample of the recorded llama-server body', () => {
    const parsed = parsePrometheusText(fixture('llama-server-80fb11a.prom'));
    expect(parsed.skipped).toBe(0);
    expect(parsed.samples).toHaveLength(15);
    expect(parsed.samples.find((s) => s.name === 'llamacpp:prompt_tokens_cached_total')?.value).toBe(13);
  });
});

describe('the vocabulary of each server family', () => {
  it('llama.cpp (recorded): queue from requests_deferred/processing, prefix hits from prompt_tokens_cached_total', () => {
    const v = vocabulary('llama-server-80fb11a.prom');
    expect(v.family).toBe('llama.cpp');
    expect(v.values).toEqual({ queueWaiting: 0, running: 0, promptTokens: 15, generatedTokens: 16, prefixCacheHits: 13, prefixCacheQueries: 28 });
    expect(v.sources.prefixCacheQueries).toBe('llamacpp:prompt_tokens_total + llamacpp:prompt_tokens_cached_total');
    expect(v.values.kvCacheUsage).toBeUndefined();
  });

  it('vLLM: counts summed over engines, the KV fraction averaged, TTFT sum and count', () => {
    const v = vocabulary('vllm.prom');
    expect(v.family).toBe('vLLM');
    expect(v.values).toMatchObject({ queueWaiting: 5, running: 5, kvCacheUsage: 0.375, prefixCacheQueries: 2000, prefixCacheHits: 800, promptTokens: 2000, generatedTokens: 640, ttftSumSeconds: 0.9, ttftCount: 10 });
  });

  it('vLLM before 0.10: the gpu_ names', () => {
    const v = vocabulary('vllm-legacy.prom');
    expect(v.family).toBe('vLLM');
    expect(v.values).toMatchObject({ kvCacheUsage: 0.125, prefixCacheQueries: 100, prefixCacheHits: 40, queueWaiting: 0 });
    expect(v.sources.kvCacheUsage).toBe('vllm:gpu_cache_usage_perc');
  });

  it('SGLang: token_usage averaged over data-parallel ranks, the cache hit rate as a rate', () => {
    const v = vocabulary('sglang.prom');
    expect(v.family).toBe('SGLang');
    expect(v.values.kvCacheUsage).toBeCloseTo(0.2, 12);
    expect(v.values).toMatchObject({ queueWaiting: 2, running: 6, prefixCacheHitRate: 0.42, promptTokens: 5000, generatedTokens: 1500, ttftSumSeconds: 0.5, ttftCount: 4 });
  });

  it('TGI, OVMS and Triton', () => {
    expect(vocabulary('tgi.prom')).toMatchObject({ family: 'TGI', values: { queueWaiting: 3, running: 8, promptTokens: 1234, generatedTokens: 321 } });
    expect(vocabulary('ovms.prom')).toMatchObject({ family: 'OVMS', values: { queueWaiting: 4, running: 3 } });
    const triton = vocabulary('triton-trtllm.prom');
    expect(triton).toMatchObject({ family: 'Triton / TRT-LLM', values: { queueWaiting: 5, kvCacheUsage: 0.25 } });
    expect(triton.sources.kvCacheUsage).toContain('kv_cache_block_type="used"');
  });

  it('conform serve is told from llama.cpp by its own TTFT histogram; an unknown body is no family', () => {
    const body = `${fixture('llama-server-80fb11a.prom')}conform:time_to_first_token_seconds_sum 0.2\nconform:time_to_first_token_seconds_count 4\n`;
    const { samples } = parsePrometheusText(body);
    expect(detectFamily(samples)?.name).toBe('conform serve');
    expect(readVocabulary(samples, detectFamily(samples)!).values).toMatchObject({ ttftSumSeconds: 0.2, ttftCount: 4, prefixCacheHits: 13 });
    expect(detectFamily(parsePrometheusText('process_cpu_seconds_total 4\nup 1\n').samples)).toBeUndefined();
  });
});
