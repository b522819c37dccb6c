// A minimal GGUF v3 serializer: enough to emit tiny F32/F16/Q8_0/Q4_0 llama fixtures byte-for-byte reproducibly.
// Layout: header, metadata key/values, tensor infos, zero padding, aligned tensor data (all little-endian).

export type GgufScalarType = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'bool' | 'string' | 'u64' | 'i64' | 'f64';

export type GgufValue =
  | { type: 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'f64'; value: number }
  | { type: 'u64' | 'i64'; value: bigint }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'array'; itemType: GgufScalarType; values: readonly (number | bigint | boolean | string)[] };

/**
 * ggml tensor types this writer knows how to size: F32 = 0, F16 = 1 (data: raw half-float bits), and the
 * block types Q4_0 = 2 and Q8_0 = 8 (data: the packed blocks, see quantize.ts).
 */
export const GGML_TYPE_F32 = 0;
export const GGML_TYPE_F16 = 1;
export const GGML_TYPE_Q4_0 = 2;
export const GGML_TYPE_Q8_0 = 8;

/** Bytes per block and values per block of each type the writer knows. */
const TYPE_SIZE: Record<number, { bytes: number; values: number }> = {
  [GGML_TYPE_F32]: { bytes: 4, values: 1 },
  [GGML_TYPE_F16]: { bytes: 2, values: 1 },
  [GGML_TYPE_Q4_0]: { bytes: 18, values: 32 },
  [GGML_TYPE_Q8_0]: { bytes: 34, values: 32 },
};

export type GgufTensor =
  | { name: string; /** ggml `ne` order: innermost (fastest-varying) dimension first. */ dims: readonly number[]; type: typeof GGML_TYPE_F32; data: Float32Array }
  | { name: string; dims: readonly number[]; type: typeof GGML_TYPE_F16; data: Uint16Array }
  | { name: string; dims: readonly number[]; type: typeof GGML_TYPE_Q4_0 | typeof GGML_TYPE_Q8_0; data: Uint8Array };

export interface GgufFile {
  /** Key order is preserved so the output bytes are stable. */
  metadata: Iterable<readonly [string, GgufValue]>;
  tensors: readonly GgufTensor[];
  /** Defaults to 32; written as `general.alignment` unless the metadata already carries it. */
  alignment?: number;
}

const VALUE_TYPE_ID: Record<GgufScalarType | 'array', number> = {
  u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9, u64: 10, i64: 11, f64: 12,
};

const encoder = new TextEncoder();

/** Growable little-endian buffer; a single DataView over a doubling backing store avoids per-field allocations. */
class ByteSink {
  private bytes = new Uint8Array(4096);
  private view = new DataView(this.bytes.buffer);
  length = 0;

  private reserve(n: number): number {
    const at = this.length;
    if (at + n > this.bytes.length) {
      let size = this.bytes.length * 2;
      while (size < at + n) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.bytes.subarray(0, at));
      this.bytes = next;
      this.view = new DataView(next.buffer);
    }
    this.length = at + n;
    return at;
  }

  // reserve() may swap the backing store, so it must run before this.bytes / this.view are read.
  raw(b: Uint8Array): void { const at = this.reserve(b.length); this.bytes.set(b, at); }
  zeros(n: number): void { const at = this.reserve(n); this.bytes.fill(0, at, at + n); }
  u8(v: number): void { const at = this.reserve(1); this.view.setUint8(at, v); }
  i8(v: number): void { const at = this.reserve(1); this.view.setInt8(at, v); }
  u16(v: number): void { const at = this.reserve(2); this.view.setUint16(at, v, true); }
  i16(v: number): void { const at = this.reserve(2); this.view.setInt16(at, v, true); }
  u32(v: number): void { const at = this.reserve(4); this.view.setUint32(at, v, true); }
  i32(v: number): void { const at = this.reserve(4); this.view.setInt32(at, v, true); }
  f32(v: number): void { const at = this.reserve(4); this.view.setFloat32(at, v, true); }
  f64(v: number): void { const at = this.reserve(8); this.view.setFloat64(at, v, true); }
  u64(v: bigint | number): void { const at = this.reserve(8); this.view.setBigUint64(at, BigInt(v), true); }
  i64(v: bigint): void { const at = this.reserve(8); this.view.setBigInt64(at, v, true); }
  str(s: string): void { const b = encoder.encode(s); this.u64(b.length); this.raw(b); }
  finish(): Uint8Array { return this.bytes.slice(0, this.length); }
}

function checkInt(v: unknown, min: number, max: number, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new RangeError(`${what}: ${String(v)} out of range`);
  return v;
}

function writeScalar(out: ByteSink, type: GgufScalarType, v: unknown, what: string): void {
  switch (type) {
    case 'u8': return out.u8(checkInt(v, 0, 0xff, what));
    case 'i8': return out.i8(checkInt(v, -0x80, 0x7f, what));
    case 'u16': return out.u16(checkInt(v, 0, 0xffff, what));
    case 'i16': return out.i16(checkInt(v, -0x8000, 0x7fff, what));
    case 'u32': return out.u32(checkInt(v, 0, 0xffffffff, what));
    case 'i32': return out.i32(checkInt(v, -0x80000000, 0x7fffffff, what));
    case 'f32': case 'f64':
      if (typeof v !== 'number') throw new TypeError(`${what}: expected number`);
      return type === 'f32' ? out.f32(v) : out.f64(v);
    case 'u64': case 'i64':
      if (typeof v !== 'bigint') throw new TypeError(`${what}: expected bigint`);
      return type === 'u64' ? out.u64(BigInt.asUintN(64, v) === v ? v : badRange(what)) : out.i64(BigInt.asIntN(64, v) === v ? v : badRange(what));
    case 'bool':
      if (typeof v !== 'boolean') throw new TypeError(`${what}: expected boolean`);
      return out.u8(v ? 1 : 0);
    case 'string':
      if (typeof v !== 'string') throw new TypeError(`${what}: expected string`);
      return out.str(v);
  }
}

function badRange(what: string): never { throw new RangeError(`${what}: out of range`); }

function writeValue(out: ByteSink, key: string, value: GgufValue): void {
  out.u32(VALUE_TYPE_ID[value.type]);
  if (value.type !== 'array') return writeScalar(out, value.type, value.value, key);
  out.u32(VALUE_TYPE_ID[value.itemType]);
  out.u64(value.values.length);
  value.values.forEach((item, i) => writeScalar(out, value.itemType, item, `${key}[${i}]`));
}

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

/** Serializes a GGUF v3 file in memory so callers decide where (and whether) bytes touch disk. */
export function writeGguf(file: GgufFile): Uint8Array {
  const alignment = file.alignment ?? 32;
  checkInt(alignment, 1, 0xffffffff, 'alignment');
  const entries = [...file.metadata];
  const keys = new Set<string>();
  for (const [key] of entries) {
    if (keys.has(key)) throw new Error(`duplicate metadata key ${key}`);
    keys.add(key);
  }
  const explicit = entries.find(([key]) => key === 'general.alignment');
  if (explicit === undefined) entries.push(['general.alignment', { type: 'u32', value: alignment }]);
  else if (explicit[1].type !== 'u32' || explicit[1].value !== alignment) throw new Error('general.alignment must be a u32 equal to alignment');

  const offsets: number[] = [];
  let dataSize = 0;
  for (const t of file.tensors) {
    const count = t.dims.reduce((a, d) => a * checkInt(d, 1, Number.MAX_SAFE_INTEGER, `${t.name} dim`), 1);
    const size = TYPE_SIZE[t.type];
    if (!size) throw new TypeError(`${t.name}: ggml type ${String(t.type)} is not one this writer knows`);
    if (size.values > 1 && t.dims[0]! % size.values !== 0) throw new RangeError(`${t.name}: rows of ${t.dims[0]} values do not fill whole ${size.values}-value blocks`);
    const expected = size.values > 1 ? (count / size.values) * size.bytes : count;
    const unit = size.values > 1 ? 'bytes' : 'elements';
    if (t.data.length !== expected) throw new Error(`${t.name}: data has ${t.data.length} ${unit}, dims need ${expected}`);
    const arrayOk = t.type === GGML_TYPE_F32 ? t.data instanceof Float32Array : t.type === GGML_TYPE_F16 ? t.data instanceof Uint16Array : t.data instanceof Uint8Array;
    if (!arrayOk) throw new TypeError(`${t.name}: F32 needs Float32Array, F16 needs Uint16Array, Q4_0 and Q8_0 need Uint8Array blocks`);
    dataSize = alignUp(dataSize, alignment);
    offsets.push(dataSize);
    dataSize += (count / size.values) * size.bytes;
  }

  const out = new ByteSink();
  out.raw(encoder.encode('GGUF'));
  out.u32(3);
  out.u64(file.tensors.length);
  out.u64(entries.length);
  for (const [key, value] of entries) {
    out.str(key);
    writeValue(out, key, value);
  }
  file.tensors.forEach((t, i) => {
    out.str(t.name);
    out.u32(t.dims.length);
    for (const d of t.dims) out.u64(d);
    out.u32(t.type);
    out.u64(offsets[i] ?? 0);
  });
  const dataStart = alignUp(out.length, alignment);
  out.zeros(dataStart - out.length);
  file.tensors.forEach((t, i) => {
    out.zeros(dataStart + (offsets[i] ?? 0) - out.length);
    if (t.data instanceof Float32Array) for (const v of t.data) out.f32(v);
    else if (t.data instanceof Uint16Array) for (const v of t.data) out.u16(v);
    else out.raw(t.data);
  });
  // Pad the tail too, so concatenating or mmapping the file never reads a short final tensor block.
  out.zeros(alignUp(out.length, alignment) - out.length);
  return out.finish();
}
