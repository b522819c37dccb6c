// A telemetry window beside llama.cpp's own llama-server (the peer, started with --metrics): its names
// are mapped, its prefix cache is seen hitting on repeated requests, and it has no TTFT histogram to check.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Case, Sample } from '../../src/core/types.ts';
import { ensureFixtureModel } from '../../src/engine/fixture-model/ensure-fixture-model.ts';
import { createOpenAiHttpRunner } from '../../src/runners/openai-http-runner.ts';
import { startBackendTelemetry } from '../../src/telemetry/backend-telemetry.ts';
import { createNodePowerIo } from '../../src/telemetry/energy/node-power-io.ts';
import { REPO } from '../helpers/conform-cli.ts';
import { startPeer, type PeerServer } from '../helpers/llama-server.ts';

let peer: PeerServer | undefined;

beforeAll(async () => {
  const { path } = await ensureFixtureModel(join(REPO, '.cache', 'conform'));
  peer = await startPeer({ gpu: 'cpu', modelPath: path, logDir: mkdtempSync(join(tmpdir(), 'peer-metrics-')) });
});

afterAll(async () => {
  await peer?.stop();
});

const chat = (id: string, content: string, stream: boolean): Case => ({ id, endpoint: 'chat', messages: [{ role: 'user', content }], params: { max_tokens: 10, temperature: 0, stream }, checks: [] });

it('scrapes llama-server: queue, tokens and prefix-cache hits in the vocabulary, and the cache seen hitting per response', async () => {
  const session = await startBackendTelemetry({
    backend: { name: 'ls-cpu', class: 'cpu', model: 'conform-tiny', baseUrl: peer!.baseUrl, preset: 'llama-cpp', metrics: { intervalMs: 100 } },
    baseUrl: peer!.baseUrl,
    env: {},
    powerIo: createNodePowerIo({ env: {}, powercapRoot: '/nonexistent/powercap' }),
  });
  const runner = session.observe(createOpenAiHttpRunner({ backend: 'ls-cpu', baseUrl: peer!.baseUrl, model: 'conform-tiny' }));
  const samples: Sample[] = [];
  samples.push(await runner.run(chat('first', 'A first question, to warm up.', true)));
  samples.push(await runner.run(chat('other', 'Something else entirely.', false)));
  const repeated = chat('repeated', 'Summarize the text above in one sentence, the same request each time.', true);
  for (let i = 0; i < 3; i++) samples.push(await runner.run(repeated));
  const telemetry = await session.finish();
  if (!telemetry) throw new Error('no telemetry');
  expect(samples.map((s) => s.kind)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);

  const metrics = telemetry.metrics!;
  expect(metrics).toMatchObject({ family: 'llama.cpp', failedScrapes: 0, url: peer!.baseUrl.replace(/\/v1$/, '/metrics') });
  expect(metrics.sources).toMatchObject({ queueWaiting: 'llamacpp:requests_deferred', running: 'llamacpp:requests_processing', prefixCacheHits: 'llamacpp:prompt_tokens_cached_total' });
  // llama-server counts prompt tokens without the cached ones; the responses say how many were cached.
  const cached = samples.map((s) => s.serverTimings?.cache_n ?? 0);
  expect(metrics.summary.prefixCacheHits).toBe(cached.reduce((a, b) => a + b, 0));
  expect(metrics.summary.promptTokens).toBe(samples.reduce((n, s, i) => n + s.usage!.promptTokens - cached[i]!, 0));
  expect(metrics.summary.generatedTokens).toBe(samples.reduce((n, s) => n + s.usage!.completionTokens, 0));
  expect(metrics.series.queueWaiting?.length).toBe(metrics.scrapes);

  const [ttft, prefix] = telemetry.crossChecks;
  expect(ttft).toMatchObject({ check: 'engine-ttft', status: 'not-checked', message: expect.stringContaining('llama.cpp has none') });
  expect(prefix).toMatchObject({ check: 'prefix-cache', status: 'agrees', message: expect.stringMatching(/^repeated: 3 identical requests in a row: the repeats took \d+ of \d+ prompt tokens from the cache \(per response\)$/) });
  expect(telemetry.throughput.requests).toBe(4);
  expect(telemetry.energy.joules).toBeNull();
}, 120_000);
