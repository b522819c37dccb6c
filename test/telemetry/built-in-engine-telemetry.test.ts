// conform serve's own /metrics, and a whole telemetry window beside it: the built-in engine on CPU with the
// fixture model, over real HTTP, scraped while conform's HTTP runner sends real requests.

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendConfig, Case } from '../../src/core/types.ts';
import { ensureFixtureModel } from '../../src/engine/fixture-model/ensure-fixture-model.ts';
import { createLlamaEngine, type LlamaEngine } from '../../src/engine/llama-engine.ts';
import { createEngineServer } from '../../src/engine/server.ts';
import { createOpenAiHttpRunner } from '../../src/runners/openai-http-runner.ts';
import { metricsTarget, startBackendTelemetry } from '../../src/telemetry/backend-telemetry.ts';
import { createNodePowerIo } from '../../src/telemetry/energy/node-power-io.ts';
import { parsePrometheusText } from '../../src/telemetry/metrics/prometheus-text.ts';
import { REPO } from '../helpers/conform-cli.ts';

let engine: LlamaEngine | undefined;
let server: Server | undefined;
let origin = '';

const chatCase = (id: string, content: string, stream: boolean): Case => ({
  id,
  endpoint: 'chat',
  messages: [{ role: 'user', content }],
  params: { max_tokens: 12, temperature: 0, stream },
  checks: [],
});

async function metricsText(): Promise<Map<string, number>> {
  const res = await fetch(`${origin}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
  const parsed = parsePrometheusText(await res.text());
  expect(parsed.skipped).toBe(0);
  return new Map(parsed.samples.map((s) => [`${s.name}${s.labels.le ? `{le="${s.labels.le}"}` : ''}`, s.value]));
}

beforeAll(async () => {
  const { path: modelPath } = await ensureFixtureModel(join(REPO, '.cache', 'conform'));
  engine = await createLlamaEngine({ gpu: 'cpu', modelPath, threads: 1, contextSize: 2048 });
  const created = createEngineServer({ engine, modelName: 'conform-tiny' });
  server = created.server;
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  created.markReady();
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await engine?.dispose();
});

describe('conform serve /metrics', () => {
  it("speaks llama.cpp's names, counts what it served, and times streamed first tokens in a histogram", async () => {
    const before = await metricsText();
    for (const name of ['llamacpp:prompt_tokens_total', 'llamacpp:prompt_tokens_cached_total', 'llamacpp:tokens_predicted_total', 'llamacpp:requests_processing', 'llamacpp:requests_deferred', 'llamacpp:kv_cache_usage_ratio'])
      expect(before.has(name), name).toBe(true);
    const runner = createOpenAiHttpRunner({ backend: 'cpu', baseUrl: `${origin}/v1`, model: 'conform-tiny' });
    const streamed = await runner.run(chatCase('s', 'Tell me about the sea.', true));
    const whole = await runner.run(chatCase('w', 'Tell me about the sea.', false));
    expect([streamed.kind, whole.kind]).toEqual(['ok', 'ok']);
    const after = await metricsText();
    const rise = (name: string) => after.get(name)! - before.get(name)!;
    expect(rise('llamacpp:prompt_tokens_total')).toBe(streamed.usage!.promptTokens + whole.usage!.promptTokens);
    expect(rise('llamacpp:tokens_predicted_total')).toBe(streamed.usage!.completionTokens + whole.usage!.completionTokens);
    expect(rise('llamacpp:prompt_tokens_cached_total')).toBe(0);
    // Only the streamed request has a first chunk to time; its server-side TTFT cannot exceed the client's.
    expect(rise('conform:time_to_first_token_seconds_count')).toBe(1);
    expect(rise('conform:time_to_first_token_seconds_sum') * 1000).toBeLessThanOrEqual(streamed.timings.firstTokenMs!);
    expect(after.get('conform:time_to_first_token_seconds_bucket{le="+Inf"}')).toBe(after.get('conform:time_to_first_token_seconds_count'));
    // Nothing is in flight once both answers are in.
    expect([after.get('llamacpp:requests_processing'), after.get('llamacpp:requests_deferred'), after.get('llamacpp:kv_cache_usage_ratio')]).toEqual([0, 0, 0]);
  });

  it('a request refused before it reaches the engine leaves no request counted as deferred', async () => {
    const res = await fetch(`${origin}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"messages": 3}' });
    expect(res.status).toBe(400);
    expect((await metricsText()).get('llamacpp:requests_deferred')).toBe(0);
  });
});

describe('a telemetry window beside the built-in engine', () => {
  it('records tokens/s, cost, energy as null with the reason, the scraped metrics and both cross-checks', async () => {
    const backend: BackendConfig = { name: 'cpu', class: 'cpu', model: 'conform-tiny', baseUrl: `${origin}/v1`, cost: { perHour: 0.1, note: 'example price' }, metrics: { intervalMs: 50 } };
    const session = await startBackendTelemetry({ backend, baseUrl: `${origin}/v1`, env: {}, powerIo: createNodePowerIo({ env: {}, powercapRoot: '/nonexistent/powercap' }) });
    const runner = session.observe(createOpenAiHttpRunner({ backend: 'cpu', baseUrl: `${origin}/v1`, model: 'conform-tiny' }));
    await runner.run(chatCase('warm-up', 'Hello.', true));
    for (const content of ['One.', 'Two, and a bit more.', 'Three: the longest of the prompts here, by some way.']) await runner.run(chatCase(`streamed-${content.length}`, content, true));
    await runner.run(chatCase('whole', 'Not streamed.', false));
    const repeat = chatCase('repeated', 'The same request three times.', true);
    for (let i = 0; i < 3; i++) await runner.run(repeat);
    const telemetry = await session.finish();
    expect(await session.finish()).toBe(telemetry);
    if (!telemetry) throw new Error('no telemetry');

    expect(telemetry.concurrency).toBe(1);
    expect(telemetry.throughput).toMatchObject({ requests: 7, streamedRequests: 6, maxInFlight: 1 });
    for (const figure of ['tokensPerSecond', 'prefillTokensPerSecond', 'decodeTokensPerSecond'] as const) expect(telemetry.throughput[figure]).toBeGreaterThan(0);
    expect(telemetry.cost).toMatchObject({ basis: 'per-hour', currency: 'USD', note: 'example price' });
    expect(telemetry.cost!.per1kTokens).toBeCloseTo(0.1 / (3.6 * telemetry.throughput.tokensPerSecond!), 12);
    expect(telemetry.energy).toMatchObject({ requested: 'auto', source: 'none', joules: null, joulesPerOutputToken: null, reason: expect.stringContaining('no /nonexistent/powercap on this machine') });

    const metrics = telemetry.metrics!;
    expect(metrics).toMatchObject({ url: `${origin}/metrics`, family: 'conform serve', intervalMs: 50, failedScrapes: 0 });
    expect(metrics.reason).toBeUndefined();
    expect(metrics.scrapes).toBeGreaterThanOrEqual(2);
    expect(metrics.series.t.length).toBe(metrics.scrapes);
    // Every request was answered inside the window, and the engine counted what the client received.
    expect(metrics.summary.ttftCount).toBe(7);
    expect(metrics.summary.prefixCacheHits).toBe(0);

    const [ttft, ...prefix] = telemetry.crossChecks;
    expect(ttft).toMatchObject({ check: 'engine-ttft', status: expect.stringMatching(/^(agrees|flagged)$/), message: expect.stringMatching(/^engine TTFT mean .* over 7 streamed requests/) });
    expect(prefix).toEqual([{ check: 'prefix-cache', status: 'flagged', message: expect.stringMatching(/^repeated: 3 identical requests in a row: prefix-cache hits did not rise during the repeats \(llamacpp:prompt_tokens_cached_total \+0\) \(conform serve clears/) }]);
  });

  it('where metrics live: the preset, the config, or off', () => {
    const base = { name: 'b', class: 'gpu', model: 'm' };
    expect(metricsTarget({ ...base, preset: 'vllm' }, 'http://gpu:8000/v1')).toEqual({ url: 'http://gpu:8000/metrics', sameOrigin: true });
    expect(metricsTarget({ ...base, preset: 'ollama' }, 'http://gpu:11434/v1')).toBeUndefined();
    expect(metricsTarget({ ...base, metrics: { url: 'http://gpu:8002/metrics' } }, 'http://gpu:8000/v1')).toEqual({ url: 'http://gpu:8002/metrics', sameOrigin: false });
    expect(metricsTarget({ ...base, metrics: false }, 'http://gpu:8000/v1')).toBeUndefined();
    expect(metricsTarget(base, 'http://127.0.0.1:9/v1')).toEqual({ url: 'http://127.0.0.1:9/metrics', sameOrigin: true });
  });
});
