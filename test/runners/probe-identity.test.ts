// probeIdentity against loopback servers that answer the way real ones do: llama-server (b1-80fb11a, its
// /v1/models and /props as PEER-NOTES.md records them), vLLM (max_model_len) and one that states nothing.

import { afterEach, describe, expect, it } from 'vitest';
import { probeIdentity } from '../../src/runners/probe-identity.ts';
import { assumedContextSize } from '../../src/runners/presets.ts';
import { startReplayServer, type ReplayServer } from '../helpers/replay-server.ts';
import { buildResponse } from './support/synthetic-response.ts';

const json = (body: unknown, status = 200) => ({ bytes: buildResponse(status, { 'Content-Type': 'application/json', Server: 'llama.cpp' }, JSON.stringify(body)) });

const llamaServerModels = {
  object: 'list',
  data: [
    {
      id: '/tmp/conform-tiny.gguf',
      object: 'model',
      owned_by: 'llamacpp',
      meta: { vocab_type: 2, n_vocab: 900, n_ctx: 4096, n_ctx_train: 32768, n_embd: 64, n_params: 222016, size: 888064, ftype: 'all F32' },
    },
  ],
};
// Two slots share the 4,096: each request may hold 2,048, which /props reports and /v1/models does not.
const llamaServerProps = { default_generation_settings: { n_ctx: 2048 }, total_slots: 2, model_path: '/tmp/conform-tiny.gguf', build_info: 'b1-80fb11a' };

let server: ReplayServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('probeIdentity', () => {
  it('reads llama-server: the per-slot context from /props, the weights fingerprint from /v1/models meta', async () => {
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

  it('falls back to /v1/models meta.n_ctx when /props is not there', async () => {
    server = await startReplayServer([json(llamaServerModels), json({ error: 'not found' }, 404)]);
    expect((await probeIdentity(server.baseUrl)).contextSize).toBe(4096);
  });

  it('reads vLLM’s max_model_len', async () => {
    const vllm = { object: 'list', data: [{ id: 'meta-llama/Llama-3.1-8B-Instruct', object: 'model', owned_by: 'vllm', max_model_len: 131072 }] };
    server = await startReplayServer([json(vllm), json({ detail: 'Not Found' }, 404)]);
    expect(await probeIdentity(server.baseUrl)).toMatchObject({ model: 'meta-llama/Llama-3.1-8B-Instruct', contextSize: 131072 });
  });

  it('takes a preset’s documented default where the server states none, unless maxPromptTokens is set', async () => {
    const ollama = { object: 'list', data: [{ id: 'llama3.2:1b', object: 'model', owned_by: 'library' }] };
    server = await startReplayServer([json(ollama), json({}, 404)]);
    expect(await probeIdentity(server.baseUrl, undefined, { defaultContextSize: assumedContextSize({ preset: 'ollama' }) })).toMatchObject({ contextSize: 2048 });
    expect(assumedContextSize({ preset: 'ollama', maxPromptTokens: 8192 })).toBeUndefined();
    expect(assumedContextSize({ preset: 'llama-cpp' })).toBeUndefined();
  });

  it('says nothing rather than guessing when /v1/models is not JSON', async () => {
    server = await startReplayServer([{ bytes: buildResponse(200, { 'Content-Type': 'text/html' }, '<html>proxy login</html>') }]);
    expect(await probeIdentity(server.baseUrl)).toEqual({});
  });
});
