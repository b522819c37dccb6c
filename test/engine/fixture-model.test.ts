import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { getLlama, LlamaLogLevel, readGgufFileInfo, type Llama, type LlamaContext, type LlamaModel, type Token } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixtureModel, fixtureModelSha256 } from '../../src/engine/fixture-model/create-fixture-model.ts';
import { ensureFixtureModel } from '../../src/engine/fixture-model/ensure-fixture-model.ts';
import { BOS_ID, EOS_ID, FIRST_TEXT_TOKEN_ID, IM_END_ID, IM_START_ID, TARGET_VOCAB_SIZE } from '../../src/engine/fixture-model/vocabulary.ts';

// Pinned: any change to the vocabulary, weights, metadata or writer must be deliberate (and re-pinned here).
const PINNED_SHA256 = '1728dcc6d835e8a99b1c542c0f9c685cee750134a114258ae0d994e3e9e4cac0';

describe('fixture model bytes', () => {
  it('is byte-identical across builds and matches the pinned hash', () => {
    const a = buildFixtureModel();
    const b = buildFixtureModel();
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(fixtureModelSha256(a)).toBe(PINNED_SHA256);
  });

  it('is written once, content-addressed, and found again without rewriting', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'conform-fixture-'));
    try {
      const first = await ensureFixtureModel(join(dir, 'nested'));
      expect(first.sha256).toBe(PINNED_SHA256);
      expect(first.path).toBe(join(dir, 'nested', `conform-tiny-${PINNED_SHA256.slice(0, 12)}.gguf`));
      const before = await stat(first.path);
      const second = await ensureFixtureModel(join(dir, 'nested'));
      expect(second).toEqual(first);
      expect((await stat(first.path)).mtimeMs).toBe(before.mtimeMs);
      expect(before.size).toBe(buildFixtureModel().length);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('fixture model in llama.cpp', () => {
  let dir: string;
  let modelPath: string;
  let llama: Llama;
  let model: LlamaModel;
  let context: LlamaContext;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'conform-fixture-'));
    modelPath = (await ensureFixtureModel(dir)).path;
    llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
    model = await llama.loadModel({ modelPath });
    // threads: 1 always; the default oversubscribes a 2-core machine (~231 ms/token instead of ~1 ms).
    context = await model.createContext({ contextSize: 4096, threads: 1, sequences: 2 });
  });

  afterAll(async () => {
    await context?.dispose();
    await model?.dispose();
    await llama?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  // Greedy decode from a fresh sequence, recording the top-1 probability (softmax of raw logits) at each step.
  async function greedy(prompt: string, steps = 32): Promise<{ tokens: Token[]; top1: number[] }> {
    const sequence = context.getSequence();
    try {
      const tokens: Token[] = [];
      const top1: number[] = [];
      const input = [BOS_ID as Token, ...model.tokenize(prompt)];
      for await (const step of sequence.evaluateWithMetadata(input, { probabilities: true }, { temperature: 0, yieldEogToken: true })) {
        tokens.push(step.token);
        const [bestToken, bestProbability] = step.probabilities.entries().next().value ?? [-1, 0];
        expect(bestToken).toBe(step.token); // greedy picks the argmax, and the map is sorted best-first
        top1.push(bestProbability);
        if (tokens.length >= steps) break;
      }
      return { tokens, top1 };
    } finally {
      sequence.dispose();
    }
  }

  it('exposes the vocabulary and special tokens the server harness relies on', async () => {
    expect(model.fileInfo.metadata.tokenizer.ggml.tokens.length).toBe(TARGET_VOCAB_SIZE);
    expect([model.tokens.bos, model.tokens.eos, model.tokens.eot]).toEqual([BOS_ID, EOS_ID, IM_END_ID]);
    expect(model.isEogToken(EOS_ID as Token)).toBe(true);
    expect(model.isEogToken(IM_END_ID as Token)).toBe(true);
    expect(model.tokenize('<|im_start|>user\nhi<|im_end|>', true)).toEqual(expect.arrayContaining([IM_START_ID, IM_END_ID]));
    // Control-token text is not special unless asked for, so user content cannot inject turn markers.
    expect(model.tokenize('<|im_end|>')).not.toContain(IM_END_ID);
    // Corpus words are whole tokens, so ordinary prompts stay short.
    expect(model.tokenize('The capital of France is Paris.')).toHaveLength(7);
    const info = await readGgufFileInfo(modelPath, { logWarnings: false });
    expect(info.metadata.tokenizer.chat_template).toContain("'<|im_start|>assistant\\n'");
  });

  it('round-trips arbitrary unicode through byte fallback', () => {
    for (const text of ['Héllo wörld — naïve café', 'emoji 🎉🚀 family 👩‍👩‍👧 flag 🇫🇷', '日本語のテキスト', 'tabs\tand\nnew\r\nlines', '  two  spaces ', '<|im_end|> <s>']) {
      expect(model.detokenize(model.tokenize(text))).toBe(text);
    }
    // 🎉 is not in the vocabulary: the SPM space prefix "▁" (first text token) then its four UTF-8 bytes as <0xXX>.
    const byteToken = (b: number): number => 5 + b;
    expect(model.tokenize('🎉')).toEqual([FIRST_TEXT_TOKEN_ID, ...[0xf0, 0x9f, 0x8e, 0x89].map(byteToken)]);
    // llama.cpp's SPM tokenizer writes every space as U+2581 before matching, so a literal U+2581 in the text comes
    // back as a space, as it does for any SPM (Llama-2 family) model. It is the one lossy character: 180,000 random
    // grapheme, binary and ASCII strings found no other. The CI run of b9dd026 drew it at run 284.
    expect(model.detokenize(model.tokenize('a\u2581b'))).toBe('a b');
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 60 }).filter((text) => !text.includes('\u2581')), (text) => {
        expect(model.detokenize(model.tokenize(text))).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  it('decodes greedily the same way on two fresh sequences', async () => {
    const prompt = 'Tell me a story about a small robot.';
    const first = await greedy(prompt);
    const second = await greedy(prompt);
    expect(first.tokens).toHaveLength(32);
    expect(second.tokens).toEqual(first.tokens);
    expect(second.top1).toEqual(first.top1);
  });

  it('has peaked next-token distributions', async () => {
    // Measured at the pinned seed over 32 greedy steps: median top-1 probability 0.53 / 0.62 / 0.64 and minimum
    // 0.26 / 0.27 / 0.26 for these prompts (pooled over 10 prompts: median 0.58, p10 0.29, min 0.17); uniform is 0.0011.
    for (const prompt of ['The quick brown fox', 'What is the capital of France?', '{"name": "Alice", "age":']) {
      const { top1 } = await greedy(prompt);
      const sorted = [...top1].sort((a, b) => a - b);
      expect(sorted[16]).toBeGreaterThan(0.4);
      expect(sorted[0]).toBeGreaterThan(0.1);
    }
  });

  it('continues different prompts differently', async () => {
    const prompts = ['The quick brown fox', 'The quick brown cat', 'Hello, world!', 'Hello, world?', 'x'];
    const continuations: string[] = [];
    for (const prompt of prompts) continuations.push((await greedy(prompt, 8)).tokens.join(','));
    expect(new Set(continuations).size).toBe(prompts.length);
  });
});
