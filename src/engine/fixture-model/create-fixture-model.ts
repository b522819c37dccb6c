// Assembles the conform tiny llama fixture: vocabulary + seeded weights + llama metadata, as one GGUF file.

import { createHash } from 'node:crypto';
import { writeGguf, type GgufValue } from '../gguf/gguf-writer.ts';
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

/** Pure and deterministic, so every machine derives the same model (and the same cache file name) offline. */
export function buildFixtureModel(): Uint8Array {
  const vocab = buildVocabulary();
  const hp: FixtureHyperparameters = {
    nVocab: vocab.tokens.length, nEmbd: N_EMBD, nLayer: N_LAYER, nHead: N_HEAD, nHeadKv: N_HEAD_KV, nFf: N_FF,
    firstTextToken: FIRST_TEXT_TOKEN_ID,
  };
  const metadata: [string, GgufValue][] = [
    ['general.architecture', str('llama')],
    ['general.name', str(FIXTURE_MODEL_NAME)],
    ['general.file_type', u32(0)],
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
  return writeGguf({ metadata, tensors: buildFixtureTensors(hp, FIXTURE_MODEL_SEED), alignment: 32 });
}

/** The hash is the fixture's identity: it names the cache file and lets reports say exactly which model ran. */
export function fixtureModelSha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
