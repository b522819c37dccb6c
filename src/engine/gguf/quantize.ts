// ggml's storage formats for the fixture's precision variants, written from their published layouts:
// IEEE half floats, and the 32-value blocks Q8_0 (an f16 scale and 32 int8) and Q4_0 (an f16 scale and
// 32 nibbles, offset 8). Float32 rounding is emulated with Math.fround where ggml computes in float,
// so the bytes are the same on every host.

/** Values per Q8_0 and Q4_0 block; a quantized row's length must be a multiple of it. */
export const QUANT_BLOCK = 32;
/** Bytes per block: the f16 scale plus the packed values. */
export const Q8_0_BLOCK_BYTES = 2 + QUANT_BLOCK;
export const Q4_0_BLOCK_BYTES = 2 + QUANT_BLOCK / 2;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE 754 binary16 bits of a float32, rounded to nearest, ties to even (as F16C's default mode). */
export function float32ToFloat16Bits(value: number): number {
  f32[0] = value;
  const bits = u32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 | (mantissa >>> 13) : 0);
  // Rebias from 127 to 15; below the normal range the value becomes subnormal or zero.
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const full = mantissa | 0x800000;
    const shift = 14 - e;
    const half = full >>> shift;
    const rest = full & ((1 << shift) - 1);
    const midpoint = 1 << (shift - 1);
    return sign | (half + (rest > midpoint || (rest === midpoint && (half & 1)) ? 1 : 0));
  }
  const half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa rolls into the exponent, which is the correct rounding (up to infinity).
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && (half & 1)) ? 1 : 0));
}

/** The float value of binary16 bits. */
export function float16BitsToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** Every value as binary16 bits. */
export function toFloat16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = float32ToFloat16Bits(values[i]!);
  return out;
}

function checkBlocks(values: Float32Array): number {
  if (values.length % QUANT_BLOCK !== 0) throw new RangeError(`${values.length} values do not fill whole ${QUANT_BLOCK}-value blocks`);
  return values.length / QUANT_BLOCK;
}

// C's roundf: halves away from zero (Math.round sends -2.5 to -2).
const roundAway = (x: number): number => Math.sign(x) * Math.round(Math.abs(x));

/** Q8_0: per block d = max|x| / 127 (stored as f16), q = round(x / d). */
export function quantizeQ8_0(values: Float32Array): Uint8Array {
  const blocks = checkBlocks(values);
  const out = new Uint8Array(blocks * Q8_0_BLOCK_BYTES);
  const view = new DataView(out.buffer);
  for (let b = 0; b < blocks; b++) {
    const at = b * QUANT_BLOCK;
    let amax = 0;
    for (let j = 0; j < QUANT_BLOCK; j++) amax = Math.max(amax, Math.abs(values[at + j]!));
    const d = Math.fround(amax / 127);
    const id = d ? Math.fround(1 / d) : 0;
    const base = b * Q8_0_BLOCK_BYTES;
    view.setUint16(base, float32ToFloat16Bits(d), true);
    for (let j = 0; j < QUANT_BLOCK; j++) view.setInt8(base + 2 + j, roundAway(Math.fround(values[at + j]! * id)));
  }
  return out;
}

/**
 * Q4_0: per block the value of largest magnitude m (sign kept) sets d = m / −8, and each value becomes
 * min(15, trunc(x / d + 8.5)); value j sits in the low nibble of byte j, value j + 16 in its high nibble.
 */
export function quantizeQ4_0(values: Float32Array): Uint8Array {
  const blocks = checkBlocks(values);
  const out = new Uint8Array(blocks * Q4_0_BLOCK_BYTES);
  const view = new DataView(out.buffer);
  const half = QUANT_BLOCK / 2;
  for (let b = 0; b < blocks; b++) {
    const at = b * QUANT_BLOCK;
    let amax = 0;
    let max = 0;
    for (let j = 0; j < QUANT_BLOCK; j++) {
      const v = values[at + j]!;
      if (Math.abs(v) > amax) [amax, max] = [Math.abs(v), v];
    }
    const d = Math.fround(max / -8);
    const id = d ? Math.fround(1 / d) : 0;
    const base = b * Q4_0_BLOCK_BYTES;
    view.setUint16(base, float32ToFloat16Bits(d), true);
    const nibble = (x: number) => Math.min(15, Math.trunc(Math.fround(Math.fround(x * id) + 8.5)));
    for (let j = 0; j < half; j++) out[base + 2 + j] = nibble(values[at + j]!) | (nibble(values[at + half + j]!) << 4);
  }
  return out;
}

/** The values a Q8_0 or Q4_0 block array stands for, as ggml dequantizes them (for tests and drift estimates). */
export function dequantize(type: 'q8_0' | 'q4_0', bytes: Uint8Array): Float32Array {
  const blockBytes = type === 'q8_0' ? Q8_0_BLOCK_BYTES : Q4_0_BLOCK_BYTES;
  const blocks = bytes.length / blockBytes;
  const out = new Float32Array(blocks * QUANT_BLOCK);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let b = 0; b < blocks; b++) {
    const base = b * blockBytes;
    const d = float16BitsToFloat32(view.getUint16(base, true));
    for (let j = 0; j < QUANT_BLOCK; j++) {
      if (type === 'q8_0') out[b * QUANT_BLOCK + j] = d * view.getInt8(base + 2 + j);
      else {
        const byte = bytes[base + 2 + (j % 16)]!;
        out[b * QUANT_BLOCK + j] = d * ((j < 16 ? byte & 0x0f : byte >>> 4) - 8);
      }
    }
  }
  return out;
}
