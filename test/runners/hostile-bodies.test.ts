// The runner against servers that misbehave on purpose, each its own process on loopback: bodies far larger
// than asked for, and headers followed by nothing.

import { afterEach, describe, expect, it } from 'vitest';
import type { Case } from '../../src/core/types.ts';
import { createOpenAiHttpRunner } from '../../src/runners/openai-http-runner.ts';
import { startFixtureServer, type FixtureServer } from './support/fixture-server.ts';

const HUNDRED_MB = 100 * 1024 * 1024;
const CAP = 4 * 1024 * 1024;
const chat: Case = { id: 'huge', endpoint: 'chat', messages: [{ role: 'user', content: 'Say hello.' }], params: { max_tokens: 8, temperature: 0 }, checks: [] };
const streamed: Case = { ...chat, params: { ...chat.params, stream: true } };

let server: FixtureServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

describe('the body cap', () => {
  it.each([
    ['a whole JSON body', 'json', chat],
    ['a stream', 'sse', streamed],
    ['an error body', 'error', chat],
  ] as const)('cuts %s of 100 MB at the cap, as a body-too-large protocol error that says how to raise it', async (_, mode, testCase) => {
    server = await startFixtureServer('huge-body-server.mjs', [mode, String(HUNDRED_MB)]);
    const runner = createOpenAiHttpRunner({ backend: 'huge', baseUrl: server.baseUrl, model: 'm', maxResponseBytes: CAP, maxRetries: 0 });
    const sample = await runner.run(testCase);
    expect(sample.kind).toBe('protocol-error');
    expect(sample.error).toMatchObject({ code: 'body-too-large' });
    expect(sample.error!.message).toContain(`huge's answer from ${server.baseUrl}/chat/completions passed the body cap of 4 MiB (4194304 bytes)`);
    expect(sample.error!.message).toContain('raise maxResponseBytes');
    if (mode === 'error') expect(sample.error!.status).toBe(500);
    // What the sample keeps is bounded by the cap: a stream's text up to it, a whole body only a 200-character start.
    expect(JSON.stringify(sample).length).toBeLessThan(CAP + 4096);
    if (mode === 'sse') expect(sample.text.length).toBeGreaterThan(CAP / 2);
  });

  it('lets a body under the cap through whole', async () => {
    server = await startFixtureServer('huge-body-server.mjs', ['json', String(CAP / 2)]);
    const runner = createOpenAiHttpRunner({ backend: 'huge', baseUrl: server.baseUrl, model: 'm', maxResponseBytes: CAP });
    const sample = await runner.run(chat);
    expect(sample.kind).toBe('ok');
    expect(sample.text).toHaveLength(CAP / 2);
  });

  it('defaults to 8 MiB', async () => {
    server = await startFixtureServer('huge-body-server.mjs', ['json', String(HUNDRED_MB)]);
    const sample = await createOpenAiHttpRunner({ backend: 'huge', baseUrl: server.baseUrl, model: 'm' }).run(chat);
    expect(sample.error!.message).toContain('body cap of 8 MiB (8388608 bytes)');
  });
});

describe('a server that sends headers and then nothing', () => {
  it('is "no first token within N ms" when streamed, not silence mid-answer', async () => {
    server = await startFixtureServer('slowloris-server.mjs', ['silent']);
    const runner = createOpenAiHttpRunner({ backend: 'mute', baseUrl: server.baseUrl, model: 'm', firstTokenTimeoutMs: 300, idleTimeoutMs: 100 });
    const sample = await runner.run(streamed);
    expect(sample).toMatchObject({ kind: 'timeout', error: { code: 'first-token-timeout' } });
    expect(sample.error!.message).toBe(
      `mute sent headers for ${server.baseUrl}/chat/completions but no first token within 300 ms (the first-token limit: set by firstTokenTimeoutMs; raise firstTokenTimeoutMs)`,
    );
    expect(sample.timings.endMs).toBeGreaterThanOrEqual(290);
  });

  it('is "no body within N ms" when not streamed', async () => {
    server = await startFixtureServer('slowloris-server.mjs', ['silent']);
    const runner = createOpenAiHttpRunner({ backend: 'mute', baseUrl: server.baseUrl, model: 'm', idleTimeoutMs: 200 });
    const sample = await runner.run(chat);
    expect(sample).toMatchObject({ kind: 'timeout', error: { code: 'idle-timeout' } });
    expect(sample.error!.message).toBe(`mute sent headers for ${server.baseUrl}/chat/completions but no body within 200 ms (the silence limit; raise idleTimeoutMs)`);
  });
});
