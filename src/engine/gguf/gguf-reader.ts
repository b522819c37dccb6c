// Reads what a GGUF file says about itself (metadata and tensor infos) from the first bytes of the
// file, never the tensor data: enough to tell a model's precision per tensor. Pure over a byte prefix;
// the caller reads a longer prefix when the header does not fit (HeaderTruncatedError).

/** The header did not fit in the bytes given; read at least `needed` bytes and try again. */
export class HeaderTruncatedError extends Error {
  constructor(readonly needed: number) {
    super(`GGUF header continues past ${needed} bytes`);
  }
}

export interface GgufTensorInfo {
  name: string;
  dims: number[];
  /** ggml type id (0 F32, 1 F16, 2 Q4_0, 8 Q8_0, …). */
  type: number;
}

export interface GgufHeader {
  version: number;
  /** Scalar metadata values; arrays are summarized by length so that a vocabulary costs nothing to keep. */
  metadata: Record<string, string | number | bigint | boolean | { arrayOf: number; length: number }>;
  tensors: GgufTensorInfo[];
}

const decoder = new TextDecoder();

/** Parses the header of a GGUF v2 or v3 file from its first bytes. */
export function readGgufHeader(bytes: Uint8Array): GgufHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const need = (n: number) => {
    if (at + n > bytes.length) throw new HeaderTruncatedError(Math.max(bytes.length * 2, at + n));
  };
  const u32 = () => (need(4), (at += 4), view.getUint32(at - 4, true));
  const u64 = () => (need(8), (at += 8), view.getBigUint64(at - 8, true));
  const count = () => {
    const n = u64();
    if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`GGUF count ${n} is not plausible`);
    return Number(n);
  };
  const str = () => {
    const n = count();
    need(n);
    at += n;
    return decoder.decode(bytes.subarray(at - n, at));
  };
  const SIZES: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
  const scalar = (type: number): string | number | bigint | boolean => {
    if (type === 8) return str();
    const size = SIZES[type];
    if (size === undefined) throw new RangeError(`GGUF value type ${type} is unknown`);
    need(size);
    const p = at;
    at += size;
    switch (type) {
      case 0: return view.getUint8(p);
      case 1: return view.getInt8(p);
      case 2: return view.getUint16(p, true);
      case 3: return view.getInt16(p, true);
      case 4: return view.getUint32(p, true);
      case 5: return view.getInt32(p, true);
      case 6: return view.getFloat32(p, true);
      case 7: return view.getUint8(p) !== 0;
      case 10: return view.getBigUint64(p, true);
      case 11: return view.getBigInt64(p, true);
      default: return view.getFloat64(p, true);
    }
  };

  need(4);
  if (decoder.decode(bytes.subarray(0, 4)) !== 'GGUF') throw new RangeError('not a GGUF file (no GGUF magic)');
  at = 4;
  const version = u32();
  if (version < 2) throw new RangeError(`GGUF version ${version} is not supported (2 or 3)`);
  const tensorCount = count();
  const kvCount = count();
  const metadata: GgufHeader['metadata'] = {};
  for (let i = 0; i < kvCount; i++) {
    const key = str();
    const type = u32();
    if (type !== 9) {
      metadata[key] = scalar(type);
      continue;
    }
    const itemType = u32();
    const length = count();
    for (let j = 0; j < length; j++) scalar(itemType);
    metadata[key] = { arrayOf: itemType, length };
  }
  const tensors: GgufTensorInfo[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = str();
    const nDims = u32();
    const dims = Array.from({ length: nDims }, () => count());
    const type = u32();
    u64(); // offset into the data section
    tensors.push({ name, dims, type });
  }
  return { version, metadata, tensors };
}
