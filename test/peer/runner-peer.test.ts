// The runner and the identity probe against llama.cpp's own llama-server (b1-80fb11a, cpu, -c 4096), the peer
// conform did not write: what it reports about itself, and requests it used to refuse.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Case } from '../../src/core/types.ts';
import { ensureFixtureModel } from '../../src/engine/fixture-model/ensure-fixture-model.ts';
import { createConnectionPool } from '../../src/runners/connection-pool.ts';
import { createOpenAiHttpRunner } from '../../src/runners/openai-http-runner.ts';
import { probeIdentity } from '../../src/runners/probe-identity.ts';
import { REPO } from '../helpers/conform-cli.ts';
import { startPeer, type PeerServer } from '../helpers/llama-server.ts';

let peer: PeerServer | undefined;
beforeAll(async () => {
  const { path } = await ensureFixtureModel(join(REPO, '.cache', 'conform'));
  peer = await startPeer({ gpu: 'cpu', modelPath: path, logDir: mkdtempSync(join(tmpdir(), 'peer-runner-')), contextSize: 4096 });
});
afterAll(async () => {
  await peer?.stop();
});

const hello = (params: Case['params']): Case => ({ id: 'peer', endpoint: 'chat', messages: [{ role: 'user', content: 'Tell me a story about a small robot.' }], params, checks: [] });

describe('llama-server as a backend', () => {
  it('states its context on /props and fingerprints the weights as conform serve does', async () => {
    const identity = await probeIdentity(peer!.baseUrl);
    expect(identity).toMatchObject({ engine: 'llama.cpp', engineVersion: 'b1-80fb11a', contextSize: 4096 });
    // The same figures test/engine/server.test.ts asserts for conform serve's /v1/models meta on this GGUF.
    expect(identity.modelFingerprint).toEqual({ vocabSize: 900, parameters: 222016, embeddingWidth: 64, trainedContext: 32768, bytes: 888064 });
  });

  it('answers a case that turns logprobs off under an inherited top_logprobs (it answered 400 while conform sent both)', async () => {
    const runner = createOpenAiHttpRunner({ backend: 'ls-cpu', baseUrl: peer!.baseUrl, model: 'm', backendClass: 'cpu' });
    const sample = await runner.run(hello({ max_tokens: 8, temperature: 0.7, seed: 42, logprobs: false, top_logprobs: 10 }));
    expect(sample.error).toBeUndefined();
    expect(sample).toMatchObject({ kind: 'ok', deviations: [] });
    expect(sample.text.length).toBeGreaterThan(0);
  });

  it('streams one token per chunk, each with its UTF-8 bytes, over the probe’s connection', async () => {
    const pool = createConnectionPool();
    try {
      await probeIdentity(peer!.baseUrl, undefined, { dispatcher: pool });
      const runner = createOpenAiHttpRunner({ backend: 'ls-cpu', baseUrl: peer!.baseUrl, model: 'm', backendClass: 'cpu', dispatcher: pool });
      const sample = await runner.run(hello({ max_tokens: 16, temperature: 0, logprobs: true, top_logprobs: 3, stream: true }));
      expect(sample.kind).toBe('ok');
      expect(sample.tokens).toHaveLength(16);
      expect(sample.timings.chunkTokens).toEqual(new Array(sample.timings.chunkMs.length).fill(1));
      expect(Buffer.concat(sample.tokens.map((t) => Buffer.from(t.bytes!))).toString('utf8')).toBe(sample.text);
    } finally {
      await pool.close();
    }
  });
});
