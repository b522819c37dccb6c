import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getLlama, LlamaLogLevel, readGgufFileInfo, type Llama, type Token } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixtureModel, FIXTURE_PRECISIONS, fixtureModelSha256, type FixturePrecision } from '../../src/engine/fixture-model/create-fixture-model.ts';
import { ensureFixtureModel } from '../../src/engine/fixture-model/ensure-fixture-model.ts';
import { BOS_ID } from '../../src/engine/fixture-model/vocabulary.ts';
import { HeaderTruncatedError, readGgufHeader } from '../../src/engine/gguf/gguf-reader.ts';
import { weightPrecision } from '../../src/manifest/precision.ts';

// Pinned: the precision variants derive from the f32 fixture (whose hash fixture-model.test.ts pins),
// so any change to the quantizers, the recipe or the writer must be deliberate and re-pinned here.
const PINNED: Record<FixturePrecision, string> = {
  f32: '1728dcc6d835e8a99b1c542c0f9c685cee750134a114258ae0d994e3e9e4cac0',
  f16: '513b1e4bcdfff8ab7c4564d74b91921ddd84431f55fc8621286c3bc45ebdedd8',
  q8_0: '7335cc710dea104b3819b994b80a3c1ffdc2ef0137d306eabb0d3966ab1da356',
  q4_0: '6f520b1669f3435731674e1a7265f318bb80fb6cca13993de72d00c81a2cd836',
};

describe('fixture model precisions', () => {
  it('builds each precision deterministically, at its pinned sha256', () => {
    for (const precision of FIXTURE_PRECISIONS) {
      const bytes = buildFixtureModel(precision);
      expect(Buffer.from(buildFixtureModel(precision)).equals(Buffer.from(bytes)), precision).toBe(true);
      expect(fixtureModelSha256(bytes), precision).toBe(PINNED[precision]);
    }
  });

  it("stores matrices at the precision and norms at F32, llama-quantize's recipe for these shapes", () => {
    const types = (p: FixturePrecision) => weightPrecision(readGgufHeader(buildFixtureModel(p)), 'test');
    expect(types('f32')).toMatchObject({ fileType: 'ALL_F32', tensors: { attn_q: ['F32'], attn_norm: ['F32'], token_embd: ['F32'], output: ['F32'] } });
    expect(types('f16')).toMatchObject({ fileType: 'MOSTLY_F16', tensors: { attn_q: ['F16'], ffn_down: ['F16'], attn_norm: ['F32'], output_norm: ['F32'], token_embd: ['F16'] } });
    expect(types('q8_0')).toMatchObject({ fileType: 'MOSTLY_Q8_0', tensors: { attn_q: ['Q8_0'], ffn_down: ['Q8_0'], ffn_norm: ['F32'], token_embd: ['Q8_0'], output: ['Q8_0'] } });
    // Q4_0 asks Q6_K of output.weight, which needs 256-wide rows; 64-wide ones fall back to Q8_0.
    expect(types('q4_0')).toMatchObject({ fileType: 'MOSTLY_Q4_0', tensors: { attn_q: ['Q4_0'], ffn_up: ['Q4_0'], token_embd: ['Q4_0'], output: ['Q8_0'], attn_norm: ['F32'] } });
  });

  it('reads only the header, and asks for more bytes when a prefix cuts it', () => {
    const bytes = buildFixtureModel('q8_0');
    const header = readGgufHeader(bytes);
    expect(header.tensors).toHaveLength(21);
    expect(header.metadata['general.name']).toBe('conform-tiny');
    expect(header.metadata['tokenizer.ggml.tokens']).toEqual({ arrayOf: 8, length: 900 });
    let needed = 0;
    try {
      readGgufHeader(bytes.subarray(0, 1000));
    } catch (error) {
      expect(error).toBeInstanceOf(HeaderTruncatedError);
      needed = (error as HeaderTruncatedError).needed;
    }
    expect(needed).toBeGreaterThan(1000);
    expect(() => readGgufHeader(new TextEncoder().encode('GGML....'))).toThrow(/magic/);
  });
});

describe('fixture model precisions in llama.cpp', () => {
  let dir: string;
  let llama: Llama;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'conform-precisions-'));
    llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
  });
  afterAll(async () => {
    await llama?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function greedy(precision: FixturePrecision, steps = 16): Promise<Token[]> {
    const { path, sha256 } = await ensureFixtureModel(dir, precision);
    expect(sha256).toBe(PINNED[precision]);
    expect(path).toBe(join(dir, `conform-tiny-${precision === 'f32' ? '' : `${precision}-`}${sha256.slice(0, 12)}.gguf`));
    const info = await readGgufFileInfo(path, { logWarnings: false });
    expect(info.tensorInfo?.find((t) => t.name === 'blk.0.attn_q.weight')?.ggmlType).toBe({ f32: 0, f16: 1, q4_0: 2, q8_0: 8 }[precision]);
    const model = await llama.loadModel({ modelPath: path });
    const context = await model.createContext({ contextSize: 512, threads: 1 });
    try {
      const tokens: Token[] = [];
      const input = [BOS_ID as Token, ...model.tokenize('The quick brown fox')];
      for await (const step of context.getSequence().evaluateWithMetadata(input, {}, { temperature: 0 })) {
        tokens.push(step.token);
        if (tokens.length >= steps) break;
      }
      return tokens;
    } finally {
      await context.dispose();
      await model.dispose();
    }
  }

  it('loads every precision; F16 decodes as F32 does, Q4_0 parts from it', async () => {
    const reference = await greedy('f32');
    expect(reference).toHaveLength(16);
    expect(await greedy('f16')).toEqual(reference);
    expect(await greedy('q8_0')).toHaveLength(16);
    // Measured over the suites: Q4_0 parts from F32 within 2.5 tokens at the median (confident flips).
    expect(await greedy('q4_0')).not.toEqual(reference);
  });
});
