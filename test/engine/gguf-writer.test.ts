import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { readGgufFileInfo } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GGML_TYPE_F16, GGML_TYPE_F32, GGML_TYPE_Q4_0, GGML_TYPE_Q8_0, writeGguf, type GgufTensor, type GgufValue } from '../../src/engine/gguf/gguf-writer.ts';
import { quantizeQ4_0, quantizeQ8_0 } from '../../src/engine/gguf/quantize.ts';

let dir: string;
let fileCount = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'conform-gguf-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// node-llama-cpp's parser is an independent implementation, so agreeing with it is the real round-trip check.
async function parse(bytes: Uint8Array) {
  const path = join(dir, `t${fileCount++}.gguf`);
  await writeFile(path, bytes);
  return readGgufFileInfo(path, { logWarnings: false, spliceSplitFiles: false });
}

// Nested lookup, because the parser turns dotted keys into nested objects.
function lookup(metadata: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>((obj, part) => (obj as Record<string, unknown>)[part], metadata);
}

const everyType: [string, GgufValue][] = [
  ['general.architecture', { type: 'string', value: 'llama' }],
  ['conform.u8', { type: 'u8', value: 255 }],
  ['conform.i8', { type: 'i8', value: -128 }],
  ['conform.u16', { type: 'u16', value: 65535 }],
  ['conform.i16', { type: 'i16', value: -32768 }],
  ['conform.u32', { type: 'u32', value: 4294967295 }],
  ['conform.i32', { type: 'i32', value: -2147483648 }],
  ['conform.f32', { type: 'f32', value: 1.5 }],
  ['conform.bool_true', { type: 'bool', value: true }],
  ['conform.bool_false', { type: 'bool', value: false }],
  ['conform.string', { type: 'string', value: 'héllo ▁ 🎉 <|im_end|>\n' }],
  ['conform.empty_string', { type: 'string', value: '' }],
  ['conform.u64', { type: 'u64', value: 18446744073709551615n }],
  ['conform.i64', { type: 'i64', value: -9223372036854775808n }],
  ['conform.f64', { type: 'f64', value: Math.PI }],
  ['conform.arr_i32', { type: 'array', itemType: 'i32', values: [1, -2, 3] }],
  ['conform.arr_f32', { type: 'array', itemType: 'f32', values: [0.25, -1] }],
  ['conform.arr_u8', { type: 'array', itemType: 'u8', values: [0, 7, 255] }],
  ['conform.arr_bool', { type: 'array', itemType: 'bool', values: [true, false] }],
  ['conform.arr_str', { type: 'array', itemType: 'string', values: ['a', '', 'ü'] }],
  ['conform.arr_u64', { type: 'array', itemType: 'u64', values: [0n, 1n << 40n] }],
  ['conform.arr_empty', { type: 'array', itemType: 'string', values: [] }],
];

const expected: Record<string, unknown> = {
  'conform.u8': 255, 'conform.i8': -128, 'conform.u16': 65535, 'conform.i16': -32768,
  'conform.u32': 4294967295, 'conform.i32': -2147483648, 'conform.f32': 1.5,
  'conform.bool_true': true, 'conform.bool_false': false,
  'conform.string': 'héllo ▁ 🎉 <|im_end|>\n', 'conform.empty_string': '',
  'conform.u64': 18446744073709551615n, 'conform.i64': -9223372036854775808n, 'conform.f64': Math.PI,
  'conform.arr_i32': [1, -2, 3], 'conform.arr_f32': [0.25, -1], 'conform.arr_u8': [0, 7, 255],
  'conform.arr_bool': [true, false], 'conform.arr_str': ['a', '', 'ü'], 'conform.arr_u64': [0n, 1n << 40n],
  'conform.arr_empty': [],
};

const tensors: GgufTensor[] = [
  { name: 'odd.f32', dims: [3], type: GGML_TYPE_F32, data: new Float32Array([1, -2, 0.5]) },
  { name: 'matrix.f16', dims: [5, 2], type: GGML_TYPE_F16, data: new Uint16Array([0x3c00, 0xc000, 0, 1, 2, 3, 4, 5, 6, 0x7bff]) },
  { name: 'tail.f32', dims: [2, 3, 1], type: GGML_TYPE_F32, data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
];

describe('writeGguf', () => {
  it('round-trips every metadata value type and tensor layout through node-llama-cpp', async () => {
    const bytes = writeGguf({ metadata: everyType, tensors });
    const info = await parse(bytes);
    expect(info.version).toBe(3);
    expect(info.tensorCount).toBe(3);
    for (const [key, value] of Object.entries(expected)) expect(lookup(info.metadata, key), key).toEqual(value);
    expect(lookup(info.metadata, 'general.alignment')).toBe(32);
    // Insertion order is what keeps the bytes stable, so check the parser saw the keys in that order.
    expect(Object.keys(lookup(info.metadata, 'conform') as object)).toEqual(
      everyType.filter(([k]) => k.startsWith('conform.')).map(([k]) => k.slice('conform.'.length)),
    );

    const infos = info.tensorInfo ?? [];
    expect(infos.map((t) => [t.name, t.dimensions, t.ggmlType, t.offset])).toEqual([
      ['odd.f32', [3], 0, 0],
      ['matrix.f16', [5, 2], 1, 32], // 12 bytes of F32 padded up to the 32-byte alignment
      ['tail.f32', [2, 3, 1], 0, 64], // 20 bytes of F16 padded again
    ]);
    const dataStart = info.infoEndOffset ?? -1;
    expect(dataStart % 32).toBe(0);
    expect(bytes.length).toBe(dataStart + 64 + 32);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const at = (i: number): number => Number(infos[i]?.fileOffset);
    expect([0, 1, 2].map((i) => view.getFloat32(at(0) + 4 * i, true))).toEqual([1, -2, 0.5]);
    expect([0, 1, 9].map((i) => view.getUint16(at(1) + 2 * i, true))).toEqual([0x3c00, 0xc000, 0x7bff]);
    expect(view.getFloat32(at(2) + 4 * 5, true)).toBe(6);
    // Padding between tensors is zero bytes.
    expect([...bytes.subarray(at(0) + 12, at(1))].every((b) => b === 0)).toBe(true);
  });

  it('is deterministic and honours an explicit general.alignment', async () => {
    const metadata: [string, GgufValue][] = [['general.alignment', { type: 'u32', value: 64 }], ['a.b', { type: 'u8', value: 1 }]];
    const a = writeGguf({ metadata, tensors, alignment: 64 });
    expect(writeGguf({ metadata, tensors, alignment: 64 })).toEqual(a);
    const info = await parse(a);
    expect(info.tensorInfo?.map((t) => t.offset)).toEqual([0, 64, 128]);
    expect((info.infoEndOffset ?? 1) % 64).toBe(0);
  });

  it('rejects inputs that would produce a corrupt file', () => {
    const one = (value: GgufValue) => () => writeGguf({ metadata: [['k', value]], tensors: [] });
    expect(one({ type: 'u8', value: 256 })).toThrow(RangeError);
    expect(one({ type: 'i32', value: 1.5 })).toThrow(RangeError);
    expect(one({ type: 'u64', value: -1n })).toThrow(RangeError);
    expect(one({ type: 'array', itemType: 'u16', values: ['x'] })).toThrow();
    expect(() => writeGguf({ metadata: [['k', { type: 'u8', value: 1 }], ['k', { type: 'u8', value: 2 }]], tensors: [] })).toThrow(/duplicate/);
    expect(() => writeGguf({ metadata: [], tensors: [{ name: 't', dims: [4], type: GGML_TYPE_F32, data: new Float32Array(3) }] })).toThrow(/elements/);
    expect(() => writeGguf({ metadata: [], tensors: [{ name: 't', dims: [4], type: GGML_TYPE_F16, data: new Float32Array(4) } as unknown as GgufTensor] })).toThrow(TypeError);
    expect(() => writeGguf({ metadata: [['general.alignment', { type: 'u32', value: 16 }]], tensors: [] })).toThrow(/alignment/);
  });

  it('sizes Q8_0 and Q4_0 block tensors as ggml does, and rejects rows that do not fill whole blocks', async () => {
    const values = Float32Array.from({ length: 64 }, (_, i) => i / 8 - 4);
    const bytes = writeGguf({
      metadata: [],
      tensors: [
        { name: 'q8', dims: [32, 2], type: GGML_TYPE_Q8_0, data: quantizeQ8_0(values) },
        { name: 'q4', dims: [64], type: GGML_TYPE_Q4_0, data: quantizeQ4_0(values) },
        { name: 'tail', dims: [1], type: GGML_TYPE_F32, data: new Float32Array([1]) },
      ],
    });
    const info = await parse(bytes);
    // 2 blocks of 34 bytes = 68, padded to 96; then 2 blocks of 18 bytes = 36, padded to 160.
    expect(info.tensorInfo?.map((t) => [t.name, t.ggmlType, t.offset])).toEqual([['q8', 8, 0], ['q4', 2, 96], ['tail', 0, 160]]);
    const q8 = (n: number) => ({ name: 'q', dims: [n], type: GGML_TYPE_Q8_0, data: quantizeQ8_0(new Float32Array(32)) }) as GgufTensor;
    expect(() => writeGguf({ metadata: [], tensors: [q8(16)] })).toThrow(/whole 32-value blocks/);
    expect(() => writeGguf({ metadata: [], tensors: [q8(64)] })).toThrow(/34 bytes, dims need 68/);
  });

  it('round-trips arbitrary scalar values (property)', async () => {
    const f32 = fc.float({ noNaN: true }).map((v) => Math.fround(v));
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          s: fc.string({ unit: 'grapheme', maxLength: 40 }),
          u32: fc.nat({ max: 0xffffffff }),
          i16: fc.integer({ min: -0x8000, max: 0x7fff }),
          i64: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
          f64: fc.double({ noNaN: true }),
          f32s: fc.array(f32, { maxLength: 8 }),
        }),
        async (v) => {
          const info = await parse(writeGguf({
            metadata: [
              ['p.s', { type: 'string', value: v.s }],
              ['p.u32', { type: 'u32', value: v.u32 }],
              ['p.i16', { type: 'i16', value: v.i16 }],
              ['p.i64', { type: 'i64', value: v.i64 }],
              ['p.f64', { type: 'f64', value: v.f64 }],
              ['p.f32s', { type: 'array', itemType: 'f32', values: v.f32s }],
            ],
            tensors: [],
          }));
          expect(lookup(info.metadata, 'p')).toEqual({ s: v.s, u32: v.u32, i16: v.i16, i64: v.i64, f64: v.f64, f32s: v.f32s });
        },
      ),
      { numRuns: 40 },
    );
  });
});
