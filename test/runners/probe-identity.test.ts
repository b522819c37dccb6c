// probeIdentity against loopback servers that answer the way real ones do: llama-server b1-80fb11a (as measured;
// test/peer asks the real one), b4748 (its recorded /v1/models), vLLM (max_model_len) and one that states nothing.

import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { assumedContextSize } from '../../src/runners/presets.ts';
import { probeIdentity } from '../../src/runners/probe-identity.ts';
import { REPO } from '../helpers/conform-cli.ts';
import { startReplayServer, type ReplayServer } from '../helpers/replay-server.ts';
import { buildResponse } from './support/synthetic-response.ts';

const json = (body: unknown, status = 200, server = 'llama.cpp') => ({ bytes: buildResponse(status, { 'Content-Type': 'application/json', Server: server }, JSON.stringify(body)) });

// b1-80fb11a with -c 4096 -np 2 (measured): each slot holds 2,048, and both endpoints say so.
const llamaServerModels = {
  object: 'list',
  data: [
    {
      id: '/tmp/conform-tiny.gguf',
      object: 'model',
      owned_by: 'llamacpp',
      meta: { vocab_type: true, n_vocab: 900, n_ctx: 2048, n_ctx_train: 32768, n_embd: 64, n_params: 222016, size: 888064, ftype: 'all F32' },
    },
  ],
};
const llamaServerProps = { default_generation_settings: { n_ctx: 2048 }, total_slots: 2, model_path: '/tmp/conform-tiny.gguf', build_info: 'b1-80fb11a' };
const B4748_MODELS = join(REPO, 'test', 'fixtures', 'llama-server-b4748', 'cpu', 'models.response.http');

let server: ReplayServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('probeIdentity', () => {
  it('reads llama-server b1-80fb11a: the per-slot context from /props, the weights fingerprint from /v1/models meta', async () => {
    server = await startReplayServer([json(llamaServerModels), json(llamaServerProps)]);
    const identity = await probeIdentity(server.baseUrl);
    expect(identity).toEqual({
      engine: 'llama.cpp',
      engineVersion: 'b1-80fb11a',
      model: '/tmp/conform-tiny.gguf',
      contextSize: 2048,
      modelFingerprint: { vocabSize: 900, parameters: 222016, embeddingWidth: 64, trainedContext: 32768, bytes: 888064 },
    });
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/models', '/props']);
  });

  it('reads b4748, whose /v1/models (recorded) states no context: /props does', async () => {
    server = await startReplayServer([{ file: B4748_MODELS }, json({ default_generation_settings: { n_ctx: 4096 }, build_info: 'b4748-c392e509' })]);
    expect(await probeIdentity(server.baseUrl)).toMatchObject({
      model: 'models/tiny.gguf',
      engineVersion: 'b4748-c392e509',
      contextSize: 4096,
      modelFingerprint: { vocabSize: 32000, parameters: 4194624, embeddingWidth: 64, trainedContext: 32768, bytes: 16778496 },
    });
  });

  it('falls back to /v1/models meta.n_ctx when /props is not there', async () => {
    server = await startReplayServer([json(llamaServerModels), json({ error: 'not found' }, 404)]);
    expect((await probeIdentity(server.baseUrl)).contextSize).toBe(2048);
  });

  it("reads conform serve's sha256 of the weights a quantized model was derived from", async () => {
    const meta = { engine: 'llama.cpp (node-llama-cpp)', model_sha256: '73'.repeat(32), derived_from_sha256: '17'.repeat(32), context_size: 4096 };
    server = await startReplayServer([json({ object: 'list', data: [{ id: 'conform-tiny', object: 'model', owned_by: 'conform', meta }] }, 200, 'conform')]);
    expect(await probeIdentity(server.baseUrl)).toMatchObject({ modelSha256: '73'.repeat(32), derivedFromSha256: '17'.repeat(32) });
  });

  it('reads vLLM’s max_model_len', async () => {
    const vllm = { object: 'list', data: [{ id: 'meta-llama/Llama-3.1-8B-Instruct', object: 'model', owned_by: 'vllm', max_model_len: 131072 }] };
    server = await startReplayServer([json(vllm, 200, 'uvicorn')]);
    expect(await probeIdentity(server.baseUrl)).toMatchObject({ engine: 'uvicorn', model: 'meta-llama/Llama-3.1-8B-Instruct', contextSize: 131072 });
    // Only a server that says it is llama.cpp is asked for /props.
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/models']);
  });

  it('takes a preset’s documented default where the server states none, unless maxPromptTokens is set', async () => {
    const ollama = { object: 'list', data: [{ id: 'llama3.2:1b', object: 'model', owned_by: 'library' }] };
    server = await startReplayServer([json(ollama, 200, 'ollama')]);
    expect(await probeIdentity(server.baseUrl, undefined, { defaultContextSize: assumedContextSize({ preset: 'ollama' }) })).toMatchObject({ contextSize: 2048 });
    expect(assumedContextSize({ preset: 'ollama', maxPromptTokens: 8192 })).toBeUndefined();
    expect(assumedContextSize({ preset: 'llama-cpp' })).toBeUndefined();
  });

  it('says nothing rather than guessing when /v1/models is not JSON', async () => {
    server = await startReplayServer([{ bytes: buildResponse(200, { 'Content-Type': 'text/html' }, '<html>proxy login</html>') }]);
    expect(await probeIdentity(server.baseUrl)).toEqual({});
  });
});
