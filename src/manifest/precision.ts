// The weights' storage types per tensor class, from a GGUF header: what a release really runs at, read
// from the file whose sha256 the backend reported, not from its name.

import type { GgufHeader } from '../engine/gguf/gguf-reader.ts';
import type { WeightPrecision } from './types.ts';

// ggml's type ids (ggml.h, enum ggml_type).
const GGML_TYPES: Record<number, string> = {
  0: 'F32', 1: 'F16', 2: 'Q4_0', 3: 'Q4_1', 6: 'Q5_0', 7: 'Q5_1', 8: 'Q8_0', 9: 'Q8_1', 10: 'Q2_K', 11: 'Q3_K', 12: 'Q4_K',
  13: 'Q5_K', 14: 'Q6_K', 15: 'Q8_K', 16: 'IQ2_XXS', 17: 'IQ2_XS', 18: 'IQ3_XXS', 19: 'IQ1_S', 20: 'IQ4_NL', 21: 'IQ3_S',
  22: 'IQ2_S', 23: 'IQ4_XS', 24: 'I8', 25: 'I16', 26: 'I32', 27: 'I64', 28: 'F64', 29: 'IQ1_M', 30: 'BF16', 34: 'TQ1_0', 35: 'TQ2_0', 39: 'MXFP4',
};

// llama.cpp's llama_ftype values for general.file_type (llama.h).
const FILE_TYPES: Record<number, string> = {
  0: 'ALL_F32', 1: 'MOSTLY_F16', 2: 'MOSTLY_Q4_0', 3: 'MOSTLY_Q4_1', 7: 'MOSTLY_Q8_0', 8: 'MOSTLY_Q5_0', 9: 'MOSTLY_Q5_1', 10: 'MOSTLY_Q2_K',
  11: 'MOSTLY_Q3_K_S', 12: 'MOSTLY_Q3_K_M', 13: 'MOSTLY_Q3_K_L', 14: 'MOSTLY_Q4_K_S', 15: 'MOSTLY_Q4_K_M', 16: 'MOSTLY_Q5_K_S',
  17: 'MOSTLY_Q5_K_M', 18: 'MOSTLY_Q6_K', 32: 'MOSTLY_BF16', 38: 'MOSTLY_MXFP4_MOE',
};

/** ggml's name of a type id, or `type N` for one this table does not know. */
export const ggmlTypeName = (type: number): string => GGML_TYPES[type] ?? `type ${type}`;

/** The class of a tensor: its name without the block number and the `.weight`/`.bias` suffix. */
export function tensorClass(name: string): string {
  return name.replace(/^blk\.\d+\./, '').replace(/\.(weight|bias)$/, '');
}

/** Storage types per tensor class, most common first, and the file type the header declares. */
export function weightPrecision(header: GgufHeader, source: string): WeightPrecision {
  const byClass = new Map<string, Map<string, number>>();
  for (const tensor of header.tensors) {
    const counts = byClass.get(tensorClass(tensor.name)) ?? new Map<string, number>();
    const type = ggmlTypeName(tensor.type);
    counts.set(type, (counts.get(type) ?? 0) + 1);
    byClass.set(tensorClass(tensor.name), counts);
  }
  const tensors: Record<string, string[]> = {};
  for (const name of [...byClass.keys()].sort())
    tensors[name] = [...byClass.get(name)!.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([type]) => type);
  const fileType = header.metadata['general.file_type'];
  return { fileType: typeof fileType === 'number' ? (FILE_TYPES[fileType] ?? `file_type ${fileType}`) : 'not declared', tensors, source };
}
