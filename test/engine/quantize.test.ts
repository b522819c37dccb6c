import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dequantize, float16BitsToFloat32, float32ToFloat16Bits, quantizeQ4_0, quantizeQ8_0, toFloat16, Q4_0_BLOCK_BYTES, Q8_0_BLOCK_BYTES } from '../../src/engine/gguf/quantize.ts';

const block = (values: number[]) => Float32Array.from(values);
const f32 = fc.float({ noNaN: true, noDefaultInfinity: true, min: -1e4, max: 1e4 }).map(Math.fround);

describe('float16', () => {
  it('encodes IEEE binary16, rounding to nearest with ties to even', () => {
    expect([1, -2, 0, -0, 65504, 2 ** -24, 2 ** -14].map(float32ToFloat16Bits)).toEqual([0x3c00, 0xc000, 0, 0x8000, 0x7bff, 0x0001, 0x0400]);
    expect(float32ToFloat16Bits(65520)).toBe(0x7c00); // halfway past the largest half rounds to infinity
    expect(float32ToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // a tie goes to the even mantissa
    expect(float32ToFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(float32ToFloat16Bits(2 ** -25)).toBe(0); // a subnormal tie goes to even: zero
    expect(float32ToFloat16Bits(3 * 2 ** -25)).toBe(2);
    expect(float32ToFloat16Bits(Infinity)).toBe(0x7c00);
    expect(float32ToFloat16Bits(NaN) & 0x7c00).toBe(0x7c00);
  });

  it('round-trips every finite half exactly, and lands within half a unit of any float', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      if ((bits & 0x7c00) === 0x7c00) continue;
      expect(float32ToFloat16Bits(float16BitsToFloat32(bits))).toBe(bits === 0x8000 ? 0x8000 : bits);
    }
    fc.assert(
      fc.property(f32, (x) => {
        const back = float16BitsToFloat32(float32ToFloat16Bits(x));
        const exponent = Math.max(-14, Math.floor(Math.log2(Math.abs(x) || 2 ** -24)));
        expect(Math.abs(back - x)).toBeLessThanOrEqual(2 ** (exponent - 10) / 2 + 1e-30);
      }),
    );
    expect(toFloat16(block([1, -2]))).toEqual(Uint16Array.from([0x3c00, 0xc000]));
  });
});

describe('Q8_0', () => {
  it('stores an f16 scale of max|x|/127 and int8 values per 32-value block', () => {
    const values = block(Array.from({ length: 32 }, (_, i) => (i - 16) / 4)); // −4 … 3.75
    const bytes = quantizeQ8_0(values);
    expect(bytes.length).toBe(Q8_0_BLOCK_BYTES);
    const view = new DataView(bytes.buffer);
    expect(view.getUint16(0, true)).toBe(float32ToFloat16Bits(4 / 127));
    expect(view.getInt8(2)).toBe(-127); // −4 is the largest magnitude
    expect(view.getInt8(2 + 16)).toBe(0);
    expect(() => quantizeQ8_0(new Float32Array(33))).toThrow(/32-value blocks/);
    expect([...quantizeQ8_0(new Float32Array(32))].every((b) => b === 0)).toBe(true);
  });

  it('dequantizes within half a step of each value (property)', () => {
    fc.assert(
      fc.property(fc.array(f32, { minLength: 32, maxLength: 32 }), (values) => {
        const x = block(values);
        const back = dequantize('q8_0', quantizeQ8_0(x));
        const step = float16BitsToFloat32(float32ToFloat16Bits(Math.max(...values.map(Math.abs)) / 127));
        for (let i = 0; i < 32; i++) expect(Math.abs(back[i]! - x[i]!)).toBeLessThanOrEqual(step / 2 + Math.abs(x[i]!) * 2e-3 + 1e-6);
      }),
    );
  });
});

describe('Q4_0', () => {
  it('maps the largest-magnitude value to −8 steps and packs value j with value j + 16', () => {
    const values = block(Array.from({ length: 32 }, (_, i) => (i === 5 ? -8 : i === 21 ? 7 : 0)));
    const bytes = quantizeQ4_0(values);
    expect(bytes.length).toBe(Q4_0_BLOCK_BYTES);
    expect(new DataView(bytes.buffer).getUint16(0, true)).toBe(float32ToFloat16Bits(1)); // d = −8 / −8
    expect(bytes[2 + 5]).toBe(0x00 | (15 << 4)); // −8 → 0 in the low nibble, 7 → 15 in the high one
    expect(bytes[2 + 0]).toBe(8 | (8 << 4)); // zeros sit at the offset 8
    expect([...dequantize('q4_0', bytes)].filter((v) => v !== 0)).toEqual([-8, 7]);
  });

  it('dequantizes within one step of each value, half a step away from the clamped end (property)', () => {
    fc.assert(
      fc.property(fc.array(f32, { minLength: 32, maxLength: 32 }), (values) => {
        const x = block(values);
        const bytes = quantizeQ4_0(x);
        const d = Math.abs(float16BitsToFloat32(new DataView(bytes.buffer).getUint16(0, true)));
        const back = dequantize('q4_0', bytes);
        for (let i = 0; i < 32; i++) expect(Math.abs(back[i]! - x[i]!)).toBeLessThanOrEqual(d + Math.abs(x[i]!) * 2e-3 + 1e-6);
      }),
    );
  });
});
