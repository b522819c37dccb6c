import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, canonicalSha256 } from '../../src/core/canonical-json.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

// Text and digest as the nested-string implementation gave them before the walk replaced it: a resume
// compares these digests with ones written by an earlier conform, so they must not drift.
const MIXED = { b: [1, undefined, { z: 'é\u2028"', a: null }], a: { y: undefined, x: -0, w: 1e21, v: NaN }, 'k"ey': true, d: new Date(0), e: [[], {}] };
const MIXED_TEXT = '{"a":{"v":null,"w":1e+21,"x":0},"b":[1,null,{"a":null,"z":"é\u2028\\""}],"d":{},"e":[[],{}],"k\\"ey":true}';
const MIXED_SHA256 = 'da80498bbc65362512d846d6dd769130b9d5c1395d206c5305abb787d818442b';

describe('canonicalJson', () => {
  it('sorts keys, drops undefined members, writes undefined items as null, and gives the same text as before', () => {
    expect(canonicalJson(MIXED)).toBe(MIXED_TEXT);
    expect(canonicalJson({ y: 2, x: [3, { q: 1, p: undefined }] })).toBe(canonicalJson({ x: [3, { q: 1 }], y: 2 }));
    expect(canonicalJson(undefined)).toBe('null');
    expect(canonicalJson('a')).toBe('"a"');
  });

  it('is JSON that parses back to the same content', () => {
    expect(JSON.parse(canonicalJson({ b: [1, 'two', { c: false }], a: 'x' }))).toEqual({ a: 'x', b: [1, 'two', { c: false }] });
  });
});

describe('canonicalSha256', () => {
  it('is the sha256 of the canonical text, for small values and for ones that span many slices', () => {
    expect(canonicalSha256(MIXED)).toBe(MIXED_SHA256);
    const suite = {
      name: 'big',
      cases: Array.from({ length: 3000 }, (_, i) => ({ id: `case-${i}`, messages: [{ role: 'user', content: `Question ${i}: ${'x'.repeat(i % 97)}` }], params: { max_tokens: 16, temperature: 0 } })),
    };
    const text = canonicalJson(suite);
    expect(text.length).toBeGreaterThan(300_000);
    expect(canonicalSha256(suite)).toBe(sha256(text));
  });

  it('tells apart values that differ in one member, wherever it is', () => {
    const a = { cases: Array.from({ length: 2000 }, (_, i) => ({ id: i, text: 'same' })) };
    const b = { cases: a.cases.map((c, i) => (i === 1999 ? { ...c, text: 'samE' } : c)) };
    expect(canonicalSha256(a)).not.toBe(canonicalSha256(b));
  });
});
