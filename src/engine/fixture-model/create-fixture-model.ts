// Assembles the conform tiny llama fixture: vocabulary + seeded weights + llama metadata, as one GGUF file.

import { createHash } from 'node:crypto';
import { GGML_TYPE_F16, GGML_TYPE_Q4_0, GGML_TYPE_Q8_0, writeGguf, type GgufTensor, type GgufValue } from '../gguf/gguf-writer.ts';
import { quantizeQ4_0, quantizeQ8_0, toFloat16 } from '../gguf/quantize.ts';
import { BOS_ID, CHATML_TEMPLATE, EOS_ID, FIRST_TEXT_TOKEN_ID, IM_END_ID, UNK_ID, buildVocabulary } from './vocabulary.ts';
import { buildFixtureTensors, type FixtureHyperparameters } from './weights.ts';

/** Changing the seed changes every weight, and therefore every pinned expectation built on the fixture. */
export const FIXTURE_MODEL_SEED = 0x636f6e66; // "conf"

export const FIXTURE_MODEL_NAME = 'conform-tiny';

const N_EMBD = 64;
const N_LAYER = 2;
const N_HEAD = 4;
const N_HEAD_KV = 4;
const N_FF = 192;
const CONTEXT_LENGTH = 32768;
const ROPE_DIMS = 16;

const u32 = (value: number): GgufValue => ({ type: 'u32', value });
const f32 = (value: number): GgufValue => ({ type: 'f32', value });
const bool = (value: boolean): GgufValue => ({ type: 'bool', value });
const str = (value: string): GgufValue => ({ type: 'string', value });

/** The weight precisions the fixture comes in: f32 is the reference every golden file was recorded with. */
export const FIXTURE_PRECISIONS = ['f32', 'f16', 'q8_0', 'q4_0'] as const;
export type FixturePrecision = (typeof FIXTURE_PRECISIONS)[number];

// llama.cpp's llama_ftype values for general.file_type.
const FILE_TYPE: Record<FixturePrecision, number> = { f32: 0, f16: 1, q4_0: 2, q8_0: 7 };

/**
 * The same seeded F32 weights stored at another precision, by the recipe llama.cpp's own tools apply
 * to this model's shapes (llama-quant.cpp at 80fb11a): only matrices change type, the 1-D norm weights
 * stay F32; Q8_0 quantizes every matrix; Q4_0 gives output.weight Q6_K, which needs 256-wide rows and
 * so falls back to Q8_0 for these 64-wide ones.
 */
function atPrecision(tensor: GgufTensor, precision: FixturePrecision): GgufTensor {
  if (precision === 'f32' || tensor.dims.length < 2 || !(tensor.data instanceof Float32Array)) return tensor;
  const { name, dims, data } = tensor;
  if (precision === 'f16') return { name, dims, type: GGML_TYPE_F16, data: toFloat16(data) };
  if (precision === 'q8_0' || name === 'output.weight') return { name, dims, type: GGML_TYPE_Q8_0, data: quantizeQ8_0(data) };
  return { name, dims, type: GGML_TYPE_Q4_0, data: quantizeQ4_0(data) };
}

/** Pure and deterministic, so every machine derives the same model (and the same cache file name) offline. */
export function buildFixtureModel(precision: FixturePrecision = 'f32'): Uint8Array {
  const vocab = buildVocabulary();
  const hp: FixtureHyperparameters = {
    nVocab: vocab.tokens.length, nEmbd: N_EMBD, nLayer: N_LAYER, nHead: N_HEAD, nHeadKv: N_HEAD_KV, nFf: N_FF,
    firstTextToken: FIRST_TEXT_TOKEN_ID,
  };
  const metadata: [string, GgufValue][] = [
    ['general.architecture', str('llama')],
    ['general.name', str(FIXTURE_MODEL_NAME)],
    ['general.file_type', u32(FILE_TYPE[precision])],
    ['llama.vocab_size', u32(hp.nVocab)],
    ['llama.context_length', u32(CONTEXT_LENGTH)],
    ['llama.embedding_length', u32(N_EMBD)],
    ['llama.block_count', u32(N_LAYER)],
    ['llama.feed_forward_length', u32(N_FF)],
    ['llama.attention.head_count', u32(N_HEAD)],
    ['llama.attention.head_count_kv', u32(N_HEAD_KV)],
    ['llama.rope.dimension_count', u32(ROPE_DIMS)],
    ['llama.rope.freq_base', f32(10000)],
    ['llama.attention.layer_norm_rms_epsilon', f32(1e-5)],
    ['tokenizer.ggml.model', str('llama')],
    ['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', values: vocab.tokens }],
    ['tokenizer.ggml.scores', { type: 'array', itemType: 'f32', values: vocab.scores }],
    ['tokenizer.ggml.token_type', { type: 'array', itemType: 'i32', values: vocab.types }],
    ['tokenizer.ggml.bos_token_id', u32(BOS_ID)],
    ['tokenizer.ggml.eos_token_id', u32(EOS_ID)],
    ['tokenizer.ggml.unknown_token_id', u32(UNK_ID)],
    ['tokenizer.ggml.eot_token_id', u32(IM_END_ID)],
    ['tokenizer.ggml.add_bos_token', bool(true)],
    ['tokenizer.ggml.add_eos_token', bool(false)],
    ['tokenizer.ggml.add_space_prefix', bool(true)],
    ['tokenizer.chat_template', str(CHATML_TEMPLATE)],
  ];
  const tensors = buildFixtureTensors(hp, FIXTURE_MODEL_SEED).map((t) => atPrecision(t, precision));
  return writeGguf({ metadata, tensors, alignment: 32 });
}

/** The hash is the fixture's identity: it names the cache file and lets reports say exactly which model ran. */
export function fixtureModelSha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
