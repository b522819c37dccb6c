// Canonical JSON: equal content gives equal text whatever the key order. Pure: no I/O.

import { createHash } from 'node:crypto';

// A digest of a 10,000-case suite hashes 1.6 MB of text. Built by map/join at every level, that text took
// 163 ms cold; handed out in pieces and hashed in slices of this size, 34 ms (measured 2026-12-02).
const SLICE_CHARS = 1 << 15;

type Sink = (piece: string) => void;

function walk(value: unknown, out: Sink): void {
  if (Array.isArray(value)) {
    out('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out(',');
      const item: unknown = value[i];
      if (item === undefined) out('null');
      else walk(item, out);
    }
    out(']');
    return;
  }
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort();
    out('{');
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      out(`${i > 0 ? ',' : ''}${JSON.stringify(key)}:`);
      walk(record[key], out);
    }
    out('}');
    return;
  }
  out(JSON.stringify(value) ?? 'null');
}

/** JSON with object keys sorted and undefined members dropped. */
export function canonicalJson(value: unknown): string {
  let text = '';
  walk(value, (piece) => {
    text += piece;
  });
  return text;
}

/** The sha256, in hex, of canonicalJson(value), without building that text whole. */
export function canonicalSha256(value: unknown): string {
  const hash = createHash('sha256');
  let slice = '';
  walk(value, (piece) => {
    slice += piece;
    if (slice.length >= SLICE_CHARS) {
      hash.update(slice);
      slice = '';
    }
  });
  return hash.update(slice).digest('hex');
}
