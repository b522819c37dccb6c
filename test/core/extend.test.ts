import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { extend } from '../../src/core/extend.ts';

// What a spread gives, described by what can be observed: own keys in order, their values, and the prototype.
const observed = (o: object) => ({ keys: Reflect.ownKeys(o), values: Reflect.ownKeys(o).map((k) => (o as Record<PropertyKey, unknown>)[k]), proto: Object.getPrototypeOf(o) });

describe('extend', () => {
  it('gives what { ...base, ...fields } gives, key order included, for any two records', () => {
    const record = fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(fc.integer(), fc.string(), fc.constant(undefined), fc.object({ maxDepth: 1 })), { maxKeys: 12 });
    fc.assert(
      fc.property(record, record, (base, fields) => {
        expect(observed(extend(base, fields))).toEqual(observed({ ...base, ...fields }));
      }),
      { numRuns: 500 },
    );
  });

  it('leaves both inputs alone and shares the values, as a spread does', () => {
    const nested = { deep: true };
    const base = { a: 1, nested };
    const fields = { b: 2 };
    const out = extend(base, fields);
    expect(out).toEqual({ a: 1, nested, b: 2 });
    expect(out.nested).toBe(nested);
    expect(base).toEqual({ a: 1, nested });
    expect(fields).toEqual({ b: 2 });
    expect(out).not.toBe(base);
  });

  it('copies an own "__proto__" key from parsed input as a key, never as the prototype', () => {
    const parsed = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as object;
    const pairs = [
      [extend(parsed, { b: 2 }), { ...parsed, b: 2 }],
      [extend({ b: 2 }, parsed), { b: 2, ...parsed }],
    ];
    for (const [out, spread] of pairs) {
      expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
      expect((out as { polluted?: boolean }).polluted).toBeUndefined();
      expect(Object.hasOwn(out!, '__proto__')).toBe(true);
      expect(observed(out!)).toEqual(observed(spread!));
    }
  });

  it('copies symbol keys and skips non-enumerable ones, as a spread does', () => {
    const tag = Symbol('tag');
    const base = Object.defineProperty({ [tag]: 'x', a: 1 }, 'hidden', { value: 1, enumerable: false });
    expect(observed(extend(base, { b: 2 }))).toEqual(observed({ ...base, b: 2 }));
  });
});
