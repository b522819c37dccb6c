import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createStreamRedactor, MIN_SECRET_PIECE, REDACTED, redactSecrets, redactText, redactTokenStream } from '../../src/core/redact.ts';
import type { Sample, TokenStep } from '../../src/core/types.ts';

const KEY = 'sk-LEAKCHECK-12345';
const steps = (...tokens: string[]): TokenStep[] => tokens.map((token, i) => ({ token, logprob: -0.1, id: 100 + i, top: [{ token, logprob: -0.1, id: 100 + i }] }));
const joined = (tokens: TokenStep[]) => tokens.map((t) => t.token).join('');

function deepFrozen<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const member of Object.values(value)) deepFrozen(member);
    Object.freeze(value);
  }
  return value;
}

/** Every way a list of token strings can be cut into consecutive runs, joined: what someone could glue back together. */
function runsOf(tokens: string[]): string[] {
  const runs: string[] = [];
  for (let i = 0; i < tokens.length; i++) for (let j = i + 1; j <= tokens.length; j++) runs.push(tokens.slice(i, j).join(''));
  return runs;
}

describe('redactTokenStream', () => {
  it('redacts a key spread over tokens so that no run of tokens joins back into it', () => {
    const tokens = steps('you', ' sent', ' s', 'k-L', 'EAK', 'CHE', 'CK-', '123', '45', ' ok');
    const out = redactTokenStream(tokens, [KEY]);
    expect(joined(out)).toBe(`you sent ${REDACTED} ok`);
    expect(out.map((t) => t.token)).toEqual(['you', ' sent', ` ${REDACTED}`, '', '', '', '', '', '', ' ok']);
    for (const run of runsOf(out.map((t) => t.token))) expect(run).not.toContain('LEAK');
    // Ids would spell the key back through the vocabulary; alternatives at those places would too.
    expect(out.slice(2, 9).every((t) => t.id === undefined && t.top.every((a) => a.token === REDACTED && a.id === undefined))).toBe(true);
    expect(out[0]).toEqual(tokens[0]);
  });

  it('redacts a key cut short at either end of the stream, down to 3 characters', () => {
    expect(joined(redactTokenStream(steps('you sent ', 'sk-', 'LEA'), [KEY]))).toBe(`you sent ${REDACTED}`);
    expect(joined(redactTokenStream(steps('2345', ' was the key'), [KEY]))).toBe(`${REDACTED} was the key`);
    expect(joined(redactTokenStream(steps('ends with ', 'sk'), [KEY]))).toBe('ends with sk'); // 2 characters: too short to tell
    expect(MIN_SECRET_PIECE).toBe(3);
  });

  it('redacts a piece of a key made of several whole tokens inside the stream', () => {
    const out = redactTokenStream(steps('key: ', 'sk-', 'LEAK', 'CHECK', ' and more'), [KEY]);
    expect(joined(out)).toBe(`key: ${REDACTED} and more`);
    // One short token that happens to occur in the key is left alone.
    expect(joined(redactTokenStream(steps('a ', 'LEAK', ' here'), [KEY]))).toBe('a LEAK here');
  });

  it('redacts an alternative that would complete a key between the tokens chosen around it', () => {
    const tokens = steps('say ', 'x', 'y');
    tokens[1]!.top.push({ token: KEY, logprob: -3 });
    const out = redactTokenStream(tokens, [KEY]);
    expect(out[1]!.top.map((a) => a.token)).toEqual(['x', REDACTED]);
    expect(out[1]!.token).toBe('x');
  });

  it('keeps the redacted tokens joining into the redacted text, for any tokenization of any text', () => {
    const text = fc.array(fc.constantFrom('a', 'sk-', 'LEAK', 'CHECK', '-1', '2345', ' ', 'b', KEY), { maxLength: 12 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(text, fc.array(fc.nat(20), { maxLength: 12 }), (t, cuts) => {
        const points = [...new Set(cuts.map((c) => Math.min(c, t.length)))].sort((a, b) => a - b);
        const tokens = steps(...[0, ...points].map((p, i, all) => t.slice(p, all[i + 1] ?? t.length)));
        const out = redactTokenStream(tokens, [KEY]);
        expect(out).toHaveLength(tokens.length);
        for (const run of runsOf(out.map((s) => s.token))) expect(run).not.toContain(KEY);
        const sample = redactSecrets({ text: t, tokens } as unknown as Sample, [KEY]);
        expect(sample.text).toBe(joined(sample.tokens));
        expect(sample.text).not.toContain(KEY);
      }),
      { numRuns: 2_000, seed: 11 },
    );
  });
});

describe('redactSecrets', () => {
  it('redacts every field and key of a sample, and a repeat variant whose text held the key loses its token ids', () => {
    const sample = {
      kind: 'http-error',
      text: `you sent ${KEY}`,
      tokens: steps('you sent ', 'sk-', 'LEAK', 'CHECK-', '12345'),
      toolCalls: [{ index: 0, id: 'c', name: 'f', arguments: `{"key":"${KEY}"}` }],
      error: { message: `invalid key Bearer ${KEY.slice(0, 9)}` },
      serverTimings: { [`echo ${KEY}`]: 1 },
      variants: [{ text: `x ${KEY}`, tokenIds: [1, 2, 3], count: 1 }, { text: 'clean', tokenIds: [4], count: 1 }],
    };
    const out = redactSecrets(sample, [KEY]);
    const text = JSON.stringify(out);
    expect(text).not.toContain(KEY);
    expect(text).not.toContain('LEAK');
    expect(out.text).toBe(`you sent ${REDACTED}`);
    expect(out.error.message).toBe(`invalid key Bearer ${REDACTED}`); // cut inside the key: the piece goes too
    expect(Object.keys(out.serverTimings)).toEqual([`echo ${REDACTED}`]);
    expect(out.variants).toEqual([{ text: `x ${REDACTED}`, count: 1 }, { text: 'clean', tokenIds: [4], count: 1 }]);
  });

  it('leaves a value without secrets as it was: the same object, not a copy', () => {
    const sample = { text: 'hello', tokens: steps('hel', 'lo'), startedAt: '2026-01-01T00:00:00.000Z' };
    expect(redactSecrets(sample, [KEY])).toBe(sample);
    expect(redactSecrets(sample, [])).toBe(sample);
  });

  it('copies only the path to what it redacts, shares the rest, and never changes its input', () => {
    const sample = deepFrozen({ text: 'fine', tokens: steps('fi', 'ne'), timings: { chunkMs: [1, 2] }, error: { message: `bad key ${KEY}`, status: 401 } });
    const out = redactSecrets(sample, [KEY]);
    expect(out.error).toEqual({ message: `bad key ${REDACTED}`, status: 401 });
    expect(out).not.toBe(sample);
    expect(out.tokens).toBe(sample.tokens);
    expect(out.timings).toBe(sample.timings);
    expect(sample.error.message).toBe(`bad key ${KEY}`);
  });

  it('leaves no key in any value, finds nothing more in what it gave, and hands back untouched whatever held none of the key', () => {
    const piece = fc.constantFrom('a', ' ', 'sk-', 'LEAK', 'CHECK-', '12345', KEY, 'ok', '\n');
    const text = fc.array(piece, { maxLength: 6 }).map((parts) => parts.join(''));
    const leaf = fc.oneof(text, fc.integer(), fc.constant(null));
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(fc.constantFrom('text', 'message', 'name', KEY, 'x'), tie('node'), { maxKeys: 4 }), fc.array(text, { minLength: 1, maxLength: 5 }).map((t) => steps(...t))),
    })).node;
    fc.assert(
      fc.property(value, (v) => {
        const input = deepFrozen(structuredClone(v));
        const out = redactSecrets(input, [KEY]);
        expect(JSON.stringify(out) ?? '').not.toContain(KEY);
        expect(input).toEqual(v);
        // The runner redacts, then the journal does again: the second pass finds nothing, and copies nothing.
        expect(redactSecrets(out, [KEY])).toBe(out);
        if (!['sk-', 'LEAK', 'CHECK-', '12345'].some((p) => (JSON.stringify(v) ?? '').includes(p))) expect(out).toBe(input);
      }),
      { numRuns: 500 },
    );
  });
});

describe('createStreamRedactor', () => {
  it('redacts a secret however the text is cut into chunks, and writes everything else unchanged', () => {
    const text = fc.array(fc.constantFrom('log line\n', 'sk-', 'LEAK', 'CHECK-1', '2345', KEY, ' ', 's', 'x'), { maxLength: 14 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(text, fc.array(fc.nat(60), { maxLength: 10 }), (t, cuts) => {
        const points = [0, ...[...new Set(cuts.map((c) => Math.min(c, t.length)))].sort((a, b) => a - b), t.length];
        const redactor = createStreamRedactor([KEY]);
        let out = '';
        for (let i = 1; i < points.length; i++) out += redactor.push(t.slice(points[i - 1], points[i]));
        out += redactor.end();
        expect(out).not.toContain(KEY);
        // The whole text redacted, and a key's first characters (3 or more) left at its very end.
        const full = redactText(t, [KEY]);
        let n = Math.min(KEY.length - 1, full.length);
        while (n >= MIN_SECRET_PIECE && !full.endsWith(KEY.slice(0, n))) n--;
        expect(out).toBe(n >= MIN_SECRET_PIECE ? full.slice(0, full.length - n) + REDACTED : full);
      }),
      { numRuns: 2_000, seed: 5 },
    );
  });

  it('lets text through at once when its end cannot start a secret', () => {
    const redactor = createStreamRedactor([KEY]);
    expect(redactor.push('ready\n')).toBe('ready\n');
    expect(redactor.push('key=sk-LE')).toBe('key=');
    expect(redactor.push('AKCHECK-12345 done\n')).toBe(`${REDACTED} done\n`);
    expect(redactor.push('cut at sk-LEAK')).toBe('cut at ');
    expect(redactor.end()).toBe(REDACTED);
  });
});
