// Seeded random llama weights: the fixture needs no training, only reproducible, prompt-dependent and
// confidently peaked next-token distributions.

import { GGML_TYPE_F32, type GgufTensor } from '../gguf/gguf-writer.ts';

export interface FixtureHyperparameters {
  nVocab: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  nHeadKv: number;
  nFf: number;
  /** Tokens below this id are control or byte tokens (see NON_TEXT_OUTPUT_SCALE). */
  firstTextToken: number;
}

/** Our own 32-bit generator (mulberry32): integer-only, so identical on every platform. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Box–Muller over the uniform stream; V8's fdlibm-derived Math.log/cos keep the output stable across hosts. */
export function normalSource(seed: number): () => number {
  const uniform = mulberry32(seed);
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const v = spare;
      spare = undefined;
      return v;
    }
    const u1 = 1 - uniform(); // (0, 1]: keeps log finite
    const u2 = uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  };
}

// Residual stream scale: embeddings have unit std, and every block matrix is 1/sqrt(fan_in) so attention and
// FFN outputs land at roughly the same magnitude as the embedding they are added to (prompt matters).
const EMBED_STD = 1;
// Logits = output.weight · rmsnorm(h): text-token logit std ≈ OUTPUT_STD * sqrt(n_embd) = 6 (5.2 measured over the whole
// vocab); measured greedy top-1 median 0.58 (0.46 at 0.6) and p10 top1-top2 gap 0.19 nats, far above F32 backend noise.
const OUTPUT_STD = 0.75;
// Control and byte tokens get 0.3x output rows so greedy text stays printable UTF-8, free of stray <|im_start|>/EOS
// (measured: 0 of 320 greedy steps picked one at 0.3x vs 84 at 1x); they keep real, small probabilities.
const NON_TEXT_OUTPUT_SCALE = 0.3;

/** Produces every llama tensor in llama.cpp's naming, each from its own derived seed so tensors stay independent. */
export function buildFixtureTensors(hp: FixtureHyperparameters, seed: number): GgufTensor[] {
  let stream = 0;
  const gaussian = (dims: number[], std: number): Float32Array => {
    const next = normalSource((seed ^ Math.imul(++stream, 0x9e3779b9)) >>> 0);
    const data = new Float32Array(dims.reduce((a, d) => a * d, 1));
    for (let i = 0; i < data.length; i++) data[i] = next() * std;
    return data;
  };
  const tensor = (name: string, dims: number[], data: Float32Array): GgufTensor => ({ name, dims, type: GGML_TYPE_F32, data });
  const random = (name: string, dims: number[], std: number): GgufTensor => tensor(name, dims, gaussian(dims, std));
  const ones = (name: string, n: number): GgufTensor => tensor(name, [n], new Float32Array(n).fill(1));

  const { nVocab, nEmbd, nFf } = hp;
  const nEmbdKv = (nEmbd / hp.nHead) * hp.nHeadKv;
  const proj = 1 / Math.sqrt(nEmbd);
  const out: GgufTensor[] = [
    random('token_embd.weight', [nEmbd, nVocab], EMBED_STD),
    ones('output_norm.weight', nEmbd),
    random('output.weight', [nEmbd, nVocab], OUTPUT_STD),
  ];
  const outputRows = out[2]!.data;
  for (let i = 0; i < hp.firstTextToken * nEmbd; i++) outputRows[i] = outputRows[i]! * NON_TEXT_OUTPUT_SCALE;
  for (let i = 0; i < hp.nLayer; i++) {
    out.push(
      ones(`blk.${i}.attn_norm.weight`, nEmbd),
      random(`blk.${i}.attn_q.weight`, [nEmbd, nEmbd], proj),
      random(`blk.${i}.attn_k.weight`, [nEmbd, nEmbdKv], proj),
      random(`blk.${i}.attn_v.weight`, [nEmbd, nEmbdKv], proj),
      random(`blk.${i}.attn_output.weight`, [nEmbd, nEmbd], proj),
      ones(`blk.${i}.ffn_norm.weight`, nEmbd),
      random(`blk.${i}.ffn_gate.weight`, [nEmbd, nFf], proj),
      random(`blk.${i}.ffn_up.weight`, [nEmbd, nFf], proj),
      random(`blk.${i}.ffn_down.weight`, [nFf, nEmbd], 1 / Math.sqrt(nFf)),
    );
  }
  return out;
}
