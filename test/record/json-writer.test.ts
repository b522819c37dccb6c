import fc from 'fast-check';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendJsonLine, writeJson, writeJsonFile, type TextSink } from '../../src/record/json-writer.ts';

function written(value: unknown, indent: number): string {
  const parts: string[] = [];
  const sink: TextSink = { write: (p) => void parts.push(p), flush: () => {} };
  writeJson(sink, value, indent);
  return parts.join('');
}

// Values as samples hold them, plus what JSON.stringify treats specially: undefined, NaN, -0, toJSON, boxed values.
const special = fc.constantFrom(undefined, Number.NaN, Number.POSITIVE_INFINITY, -0, 1e21, new Date(0), () => 1, Symbol('s'), new Number(3), new String('x'), new Boolean(false));
const value = fc.letrec((tie) => ({
  any: fc.oneof({ depthSize: 'small' }, fc.jsonValue(), special, fc.string({ unit: 'binary' }), fc.array(tie('any'), { maxLength: 4 }), fc.dictionary(fc.string(), tie('any'), { maxKeys: 4 })),
})).any;

describe('writeJson', () => {
  it('writes exactly what JSON.stringify does, indented or not', () => {
    fc.assert(
      fc.property(value, fc.constantFrom(0, 2), (v, indent) => {
        if (v === undefined || typeof v === 'function' || typeof v === 'symbol') return; // JSON.stringify returns undefined
        expect(written(v, indent)).toBe(JSON.stringify(v, null, indent || undefined));
      }),
      { numRuns: 3_000, seed: 7 },
    );
  });

  it('writes the same text when a big neighbour sends the walk piecewise and the small parts go to JSON.stringify nested', () => {
    // Past 4 Mi characters in all, a value is walked piece by piece; its small members are stringified whole and re-indented.
    const filler = 'f'.repeat(1 << 22);
    fc.assert(
      fc.property(value, fc.constantFrom(0, 2), (v, indent) => {
        for (const big of [{ filler, nested: { v, list: [v, filler] } }, [filler, [v], { v }]])
          expect(written(big, indent) === JSON.stringify(big, null, indent || undefined)).toBe(true);
      }),
      { numRuns: 20, seed: 11 },
    );
  });

  it('escapes a string longer than one slice in slices, keeping a surrogate pair across the cut whole', () => {
    const text = `${'a'.repeat((1 << 20) - 1)}😀\u0001"${'b'.repeat(1 << 20)}`;
    expect(written({ text }, 2)).toBe(JSON.stringify({ text }, null, 2));
    expect(written([`\ud800${'c'.repeat(1 << 21)}\udc00`], 0)).toBe(JSON.stringify([`\ud800${'c'.repeat(1 << 21)}\udc00`]));
  });

  it('refuses a cycle and a BigInt as JSON.stringify does', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => written(cyclic, 0)).toThrow(TypeError);
    expect(() => written({ n: 1n }, 0)).toThrow(TypeError);
  });

  it('writes files and journal lines through a descriptor', () => {
    const dir = mkdtempSync(join(tmpdir(), 'conform-json-'));
    writeJsonFile(join(dir, 'a.json'), { a: [1, { b: 'c' }] });
    expect(readFileSync(join(dir, 'a.json'), 'utf8')).toBe(`${JSON.stringify({ a: [1, { b: 'c' }] }, null, 2)}\n`);
    appendJsonLine(join(dir, 'j.jsonl'), { n: 1 });
    appendJsonLine(join(dir, 'j.jsonl'), { n: 2, s: 'x\ny' });
    expect(readFileSync(join(dir, 'j.jsonl'), 'utf8')).toBe('{"n":1}\n{"n":2,"s":"x\\ny"}\n');
  });
});
