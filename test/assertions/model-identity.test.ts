import { describe, expect, it } from 'vitest';
import { compareModels, engineFamily, modelIdentity } from '../../src/assertions/model-identity.ts';
import type { BackendIdentity } from '../../src/core/types.ts';
import { input, provenance, sample } from './samples.ts';

const SHA = '1728dcc6d835e8a99b1c542c0f9c685cee750134a114258ae0d994e3e9e4cac0';
const CONFORM = { engine: 'llama.cpp (node-llama-cpp)', model: 'conform-tiny', modelSha256: SHA };
const judge = (golden: BackendIdentity, backend: BackendIdentity) => modelIdentity.compare(input({ sample: sample(), spec: { kind: 'model' }, goldenProvenance: provenance(golden), identity: backend }));

describe('model', () => {
  it('passes the same sha256 whatever the names', () => {
    expect(judge(CONFORM, { ...CONFORM, model: 'other-name' }).status).toBe('pass');
  });

  it('fails another sha256 and names both models (item 9)', () => {
    const v = judge(CONFORM, { engine: 'vllm', model: 'Qwen/Qwen3-0.6B', modelSha256: 'ab'.repeat(32) });
    expect(v.status).toBe('fail');
    expect(v.message).toBe('golden was recorded with "conform-tiny" (sha256 1728dcc6d835…) on cpu; this backend serves "Qwen/Qwen3-0.6B" (sha256 abababababab…)');
  });

  it("passes weights derived from golden's, at another precision (conform serve --weights q8_0), and says so", () => {
    const q8 = { ...CONFORM, modelSha256: '7335cc710dea104b3819b994b80a3c1ffdc2ef0137d306eabb0d3966ab1da356', derivedFromSha256: SHA };
    const v = judge(CONFORM, q8);
    expect(v.status).toBe('pass');
    expect(v.message).toBe("golden's model at another precision: this backend serves sha256 7335cc710dea…, derived from golden's 1728dcc6d835…");
    expect(v.details).toEqual({ decidedBy: 'sha256 of the weights it was derived from' });
    // Derived from some other model, or saying nothing of its source: another model.
    expect(judge(CONFORM, { ...q8, derivedFromSha256: 'ab'.repeat(32) }).status).toBe('fail');
    expect(judge(CONFORM, { ...q8, derivedFromSha256: undefined }).status).toBe('fail');
  });

  it('falls back to the fingerprint where a side has no sha256 (llama-server reports meta, not a hash)', () => {
    const golden = { ...CONFORM, modelFingerprint: { vocabSize: 900, parameters: 222016 } };
    const peer = { engine: 'llamacpp', model: '/tmp/conform-tiny.gguf', modelFingerprint: { vocabSize: 900, parameters: 222016, embeddingWidth: 64 } };
    expect(judge(golden, peer).status).toBe('pass');
    const other = judge(golden, { ...peer, modelFingerprint: { vocabSize: 151936, parameters: 222016 } });
    expect(other.status).toBe('fail');
    expect(other.message).toContain('vocabulary size 151936 (golden 900)');
  });

  it('compares names only within one engine family', () => {
    expect(judge({ engine: 'vLLM 0.11.0', model: 'a' }, { engine: 'vLLM 0.12.1', model: 'b' }).status).toBe('fail');
    expect(judge({ engine: 'vLLM 0.11.0', model: 'a' }, { engine: 'vLLM 0.12.1', model: 'a' }).status).toBe('pass');
    // llama-server names the model by its path: a name difference across engines decides nothing.
    const v = judge(CONFORM, { engine: 'llamacpp', model: '/tmp/conform-tiny.gguf' });
    expect(v.status).toBe('skip');
    expect(v.message).toContain('cannot tell');
  });

  it('skips when the backend says nothing', () => {
    expect(judge(CONFORM, {}).status).toBe('skip');
    expect(compareModels(provenance(CONFORM), {}).same).toBeUndefined();
  });

  it('takes the provenance sha256 over the identity', () => {
    const p = provenance({ model: 'conform-tiny' }, { modelSha256: SHA });
    expect(compareModels(p, { modelSha256: SHA }).same).toBe(true);
  });

  it('reduces engines to their family', () => {
    expect(engineFamily('vLLM 0.11.0')).toBe(engineFamily('vllm v0.12'));
    expect(engineFamily('llama.cpp (node-llama-cpp)')).not.toBe(engineFamily('llamacpp'));
    expect(engineFamily(undefined)).toBeUndefined();
  });
});
