import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DEGENERATION,
  degeneration,
  findDegeneration,
  longestLoop,
  longestRepeat,
  type DegenerationOptions,
  type Finding,
} from '../../src/assertions/degeneration.ts';
import { resolveTolerance } from '../../src/core/tolerance.ts';
import type { CheckSpec, Sample, Tolerance, TokenStep } from '../../src/core/types.ts';
import { input, sample, step, tokenSample } from './samples.ts';

const check = (s: Sample, options: Partial<DegenerationOptions> | Record<string, unknown> = {}) =>
  degeneration.compare(input({ sample: s, spec: { kind: 'degeneration', ...options } }));
const fromTokens = (tokens: string[]): Sample => tokenSample(tokens.map((t) => step(t, -0.5)));
const findings = (s: Sample, options: DegenerationOptions = DEFAULT_DEGENERATION): Finding[] => findDegeneration(s, options).findings;

// --- Healthy output of the fixture model, recorded from conform serve --gpu cpu at temperature 0 (the
// calibration in src/assertions/degeneration.ts). Gibberish by design, and it loops; none of it may fire.
// chat-longer-prompt, max_tokens 256.
const LONGER_PROMPT_256 = [
  "O", "<", "ould", "!", "ack", "ields", " money", "S", "Z", "&", "heck", "el", " 9", "W", "nst", "am", " same",
  " i", "letion", " appear", "let", "ge", "wo", "umber", "ist", "quest", " call", " m", " Every", "Once", "lain",
  "D", " S", "m", "9", " u", " learn", " Once", "\\", "nst", "am", " same", " i", "letion", " appear", "let", "ge",
  "wo", "umber", "ist", "quest", " call", " m", "ty", "J", "P", "ge", "wo", "umber", "ist", "quest", " call", " m",
  " Every", "Once", "lain", "D", " S", "atched", " qu", "get", " for", " assistant", "help", " Thank", "arness",
  "wo", "umber", "ist", "quest", " call", " m", " Every", "Once", "lain", "D", " S", "ird", "ite", " input", "ge",
  "wo", "umber", "ist", "quest", " call", " m", "op", " of", "ame", "ny", " can", " input", "ge", "wo", "umber",
  "ist", "quest", " call", " m", " Every", "Once", "lain", "D", "lain", "D", " S", "ird", "for", "nd", "W",
  " Return", " assistant", "help", " Thank", "arness", "wo", "umber", "ist", "azy", "ener", "ber", "5", "9", "ode",
  " f", " end", "quest", " call", "5", "9", "ode", " f", " end", "his", "pr", " tokens", " object", "example", "=",
  "JSO", " wa", "olor", " answ", " input", "ge", "wo", "umber", "ist", "ic", "example", "=", "JSO", " wa", "olor",
  " answ", " input", " You", "ber", "5", "9", "ode", "sistant", "ell", "ion", " get", " more", "ect", " Once", "ow",
  "re", " know", "ax", "me", " w", "ow", "re", " know", "ax", "me", " w", "ow", "re", " know", "ax", "me", " w",
  "ow", "re", " know", "ax", "me", " w", "ow", "re", " know", "ax", "me", " w", "ow", "re", " know", "ax", "me",
  " w", "ow", "re", " know", "ax", "me", " w", "ow", "re", " know", "ax", "me", " w", "ow", "re", " know", "ax",
  "me", " w", "ow", "re", " know", "ax", "me", " w", "ow", "re", " know", "ax", "me", " w", "ow", "re", " know",
  "ax", "me", " w", "ow", "re", " know", "ax", "me",
];
// chat-multi-turn, max_tokens 96.
const MULTI_TURN_96 = [
  "O", "Alice", "ny", " can", " input", " You", "umb", "ful", "Fr", "ounts", "9", "5", "9", "5", "9", "5", "9", "5",
  "9", " u", "umb", "3", " many", "co", "ease", "ag", "umb", "ang", "sistant", "se", "ts", " li", "ags", "el",
  "ction", "i", "umb", "ful", " of", "ame", "ny", " can", " input", " You", "umb", "ful", " of", "on", " history",
  "France", "two", "ny", " can", " li", "ags", "essage", "ject", "ject", "ject", "ject", "ject", "ject", "ject",
  "ject", "wo", "umber", "ist", "ic", "re", " know", "ax", "1", "|", "ic", "example", " am", "required", " sh", "ut",
  " Yes", "ction", "v", " age", " history", "France", " Once", " small", "umb", "ful", "Fr", " often", " u",
  " learn", " Once", " small", "umb",
];
// completion-basic, max_tokens 256.
const COMPLETION_BASIC_256 = [
  " a", " It", "location", "is", " That", "usic", " 2", "ouse", "location", "is", "age", "usic", " around", "ponses",
  " 30", " each", " history", "France", "me", ",", "ield", "l", " Streaming", " Streaming", " Streaming",
  " Streaming", " Streaming", " 5", "se", " name", " city", "nd", "ode", " Return", " 30", " each", "ree", "age",
  " 4", "ere", ";", "gh", " can", " jumps", "gh", " can", " jumps", "gh", " can", " jumps", "gh", " can", " jumps",
  "gh", " can", " jumps", "gh", " can", " jumps", "pr", " model", " can", " jumps", "pr", " model", " can", " jumps",
  "gh", " can", " jumps", "pr", " model", " can", " jumps", "gh", " can", " jumps", "gh", " can", " jumps", "gh",
  " can", " call", "5", "er", "ax", "/", "gh", " can", " call", "5", "er", "ax", "/", "gh", " can", " call", "5",
  "er", "ax", "/", "ield", "ty", "ields", "each", "gh", " can", " call", "5", "er", "ax", " money", " wa", " n",
  " 0", "arn", " each", " learn", "X", "lease", "ort", "J", "P", "ge", "wo", "umber", "ist", " wa", " n", " 0",
  "arn", " each", "ts", " was", "ello", " again", "weather", "W", " Return", "ceiv", "ny", " can", " jumps", "gh",
  " can", " jumps", "gh", " can", " jumps", "gh", " can", " call", " m", "ea", "l", " history", "France", "unction",
  "cation", "!", " differ", "8", "each", "gh", " can", " call", " m", "ea", "l", " history", "France", "U", "ning",
  "it", "JSO", " wa", " n", "$", " wa", " n", " 0", "arn", " each", " learn", "X", " Return", "ceiv", "ny", " can",
  " jumps", "gh", " can", " jumps", "gh", " can", " jumps", "gh", " can", " jumps", "gh", " can", " input", "hel",
  "ot", "dea", "example", "/", "ield", "ty", "ields", "each", "gh", " can", " input", "hel", "ot", "dea", "example",
  "/", "ield", "ty", "ields", "each", "gh", " can", " input", "hel", "ot", "dea", "example", "/", "ield", "ty",
  "ields", " money", "nsw", " sh", "day", "/", "ield", "ty", "ields", "each", "gh", " can", " jumps", "pr",
  " change", " 30", " each", "ts", "ceiv", "ny", " can", " jumps", "pr",
];

// completion-stream, max_tokens 256 (re-measured by bench/degeneration-calibration.ts).
const COMPLETION_STREAM_256 = [
  " conformance", "pe", " i", "umb", "unction", "cation", "arn", " light", "ess", "ffer", " m", "M", " jumps", "gh",
  "\"", "mail", "y", "ct", "unction", "umb", "unction", "umb", "unction", " 5", " again", "weather", "W", " Return",
  "M", " Write", "ird", "ite", " input", " Write", "ird", "ite", " input", "ie", " w", "ow", "re", "\"", "mail",
  " A", " from", "ents", "tags", " are", " get", "O", "<", "ows", "U", "kn", " to", "x", " call", " m", " Every",
  "gh", " can", "ct", "unction", "umb", "ful", "ful", " of", " you", "alice", " Thank", "kn", " to", "x", " change",
  "ags", "\"", "mail", " assistant", "help", " Thank", " generated", "ext", "m", " completion", " li", "ags", "\"",
  "mail", " A", " from", "ents", "tags", " se", "ction", " differ", "lain", " me", "\"", "mail", "xplain", "aming",
  " 0", "arn", ",", "kn", " to", "ame", "ny", " can", " jumps", "E", "cond", "ello", " differ", "lain", " me", "\"",
  "mail", "xplain", "aming", " 0", "arn", ",", "kn", " to", "x", "A", "5", " Write", "ird", "for", "nd", "ode", " f",
  " end", "Re", " e", "weather", "W", "nst", " jumps", "E", "cond", "ather", "ather", "ather", "ather", "ather",
  "ather", "ather", "ather", "ather", "ather", "ather", "ather", " good", "Re", "ing", ";", " wa", "olor", "heck",
  "um", "gh", " can", " jumps", "pr", " change", "ags", "\"", "mail", " small", "umb", "unction", "re", " know",
  "ax", " in", " often", " age", " history", "France", " Once", "ow", "re", " know", "ax", " money", "S", "Z", "nsw",
  "ot", "dea", "tags", " se", "ction", " differ", "lain", " me", "\"", "mail", "xplain", "aming", " m", "ea", "l",
  " history", "France", " Once", "ow", "re", " know", "ax", "me", " w", " is", "ction", " Please", "l", "ject", " 8",
  "ame", "9", "\"", "mail", "|", "\"", "mail", "|", "ode", " f", " end", "his", "rite", "one", " 3", " lazy", "his",
  "pr", " tokens", " object", "example", "/", "ield", "co", " robot", "apital", " language", " from", " to", "ceiv",
  "D", " S", " language", "ap", "ert",
];

/** A healthy-looking prefix: 24 distinct tokens. */
const PREFIX = Array.from({ length: 24 }, (_, i) => ` w${i}`);

describe('degeneration: healthy cpu output does not fire', () => {
  it('chat-longer-prompt at 256 tokens: a 6-token phrase ×12 covers 28%, under the 50% loop share', () => {
    const v = check(fromTokens(LONGER_PROMPT_256));
    expect(v.status).toBe('pass');
    const loop = (v.details?.measurements as { loop: { period: number; copies: number; coverage: number; start: number } }).loop;
    expect(loop).toMatchObject({ period: 6, copies: 12, start: 179 });
    expect(loop.coverage).toBeCloseTo(72 / 256, 12);
  });

  it('chat-multi-turn at 96 tokens: "ject" ×8, under the 14-repeat limit', () => {
    const v = check(fromTokens(MULTI_TURN_96));
    expect(v.status).toBe('pass');
    expect(v.message).toContain('longest repeat 8');
    // The brief's first guess of 8 would have flagged this healthy output.
    expect(check(fromTokens(MULTI_TURN_96), { tokenRepeat: 8 }).status).toBe('fail');
  });

  it('completion-stream at 256 tokens: "ather" ×12, which the old 10-repeat limit flagged', () => {
    const v = check(fromTokens(COMPLETION_STREAM_256));
    expect(v.status).toBe('pass');
    expect(v.message).toContain('longest repeat 12');
    expect(check(fromTokens(COMPLETION_STREAM_256), { tokenRepeat: 10 }).status).toBe('fail');
  });

  it('completion-basic at 256 tokens: a 4-gram recurs 16 times, which a 4-gram count rule would flag', () => {
    expect(check(fromTokens(COMPLETION_BASIC_256)).status).toBe('pass');
    const counts = new Map<string, number>();
    for (let i = 0; i + 4 <= COMPLETION_BASIC_256.length; i++) {
      const key = COMPLETION_BASIC_256.slice(i, i + 4).join('\u0000');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(Math.max(...counts.values())).toBe(16);
  });

  it('the same outputs as plain text (no logprobs) do not fire either', () => {
    for (const tokens of [LONGER_PROMPT_256, MULTI_TURN_96, COMPLETION_BASIC_256]) {
      const v = check(sample({ text: tokens.join('') }));
      expect(v.status).toBe('pass');
      expect((v.details?.measurements as { unit: string }).unit).toBe('word');
    }
  });
});

describe('degeneration: table', () => {
  it('must catch: "????" injected into healthy tokens, at its token index (llama.cpp #5241)', () => {
    const v = check(fromTokens([...PREFIX, '??', '??', ' w99']));
    expect(v.status).toBe('fail');
    expect(v.measured).toBe(4);
    expect(v.threshold).toBe(4);
    expect(v.message).toBe('degenerate output: a run of 4 "?"/U+FFFD at token 24: "????"');
    const [finding] = v.details?.findings as Finding[];
    expect(finding).toMatchObject({ rule: 'garbage', span: '????', index: 24, charOffset: PREFIX.join('').length });
  });

  it('must catch: U+FFFD garbage, mixed with "?", in text without tokens (char offset, no token index)', () => {
    const v = check(sample({ text: 'The answer is \uFFFD?\uFFFD\uFFFD?' }));
    expect(v.status).toBe('fail');
    expect(v.measured).toBe(5);
    expect((v.details?.findings as Finding[])[0]).toMatchObject({ index: null, charOffset: 14 });
  });

  it('three question marks are not garbage; a healthy emoji split into byte tokens is not either', () => {
    expect(check(sample({ text: 'Really???' })).status).toBe('pass');
    // Servers show each byte of 🚀 as its own U+FFFD token; the rule reads the decoded text instead.
    const emoji = tokenSample([step(' go', -0.1), step('\uFFFD', -0.1), step('\uFFFD', -0.1), step('\uFFFD', -0.1), step('\uFFFD', -0.1)], { text: ' go🚀' });
    expect(check(emoji).status).toBe('pass');
  });

  it('must catch: one token repeated 14 times; 13 passes', () => {
    const v = check(fromTokens([...PREFIX, ...Array(14).fill(' the'), ' end']));
    expect(v.status).toBe('fail');
    expect(v.measured).toBe(14);
    expect(v.threshold).toBe(14);
    expect(v.message).toBe('degenerate output: token " the" repeated 14 times in a row at token 24');
    expect((v.details?.findings as Finding[])[0]).toMatchObject({ rule: 'repeat', index: 24, span: ' the'.repeat(14) });
    expect(check(fromTokens([...PREFIX, ...Array(13).fill(' the'), ' end'])).status).toBe('pass');
  });

  it('tells tokens apart by id: the same text under different ids is not a repeat', () => {
    const steps: TokenStep[] = Array.from({ length: 12 }, (_, i) => ({ token: 'r', id: i % 2 === 0 ? 343 : 119, top: [] }));
    const v = check(tokenSample(steps));
    expect(v.details?.measurements).toMatchObject({ longestRepeat: 1 });
    // As a loop of the 2-token unit [343, 119] ×6 covering everything, it still fires.
    expect(v.status).toBe('fail');
    expect((v.details?.findings as Finding[])[0]).toMatchObject({ rule: 'loop', measured: 1 });
  });

  it('must catch: a phrase looped over most of the output', () => {
    const phrase = [' I', ' am', ' a', ' helpful', ' assistant', '.'];
    const v = check(fromTokens([...PREFIX, ...Array.from({ length: 8 }, () => phrase).flat()]));
    expect(v.status).toBe('fail');
    expect(v.measured as number).toBeCloseTo(48 / 72, 12);
    expect(v.threshold).toBe(0.5);
    expect(v.message).toBe('degenerate output: a 6-token phrase " I am a helpful assistant." loops 8 times from token 24, 67% of the output');
    expect((v.details?.findings as Finding[])[0]).toMatchObject({ rule: 'loop', index: 24, charOffset: PREFIX.join('').length });
  });

  it('a phrase said 3 times, or a loop covering under half the output, passes', () => {
    const phrase = [' I', ' am', ' here', '.'];
    expect(check(fromTokens([' So', ...phrase, ...phrase, ...phrase])).status).toBe('pass');
    expect(check(fromTokens([...PREFIX, ...PREFIX, ...phrase, ...phrase, ...phrase, ...phrase])).status).toBe('pass');
  });

  it('must catch, in text without logprobs: a word repeated and a phrase looped', () => {
    const repeated = check(sample({ text: `It was ${'very '.repeat(15)}good.` }));
    expect(repeated.status).toBe('fail');
    expect(repeated.message).toMatch(/^degenerate output: word "very" repeated 15 times in a row at word 2/);
    expect((repeated.details?.findings as Finding[])[0]).toMatchObject({ unit: 'word', charOffset: 7 });
    const looped = check(sample({ text: `Answer: ${'the sea is blue and '.repeat(6)}` }));
    expect(looped.status).toBe('fail');
    expect(looped.message).toContain('5-word phrase');
  });

  it('reports every rule that fires, the first in rule order as the verdict', () => {
    const v = check(fromTokens([...Array(16).fill('?')]));
    expect((v.details?.findings as Finding[]).map((f) => f.rule)).toEqual(['garbage', 'repeat', 'loop']);
    expect(v.message).toContain('(also: repeat, loop)');
  });

  it('passes empty output', () => {
    const v = check(sample({ text: '' }));
    expect(v.status).toBe('pass');
    expect(v.message).toContain('no loop');
  });

  it('loosened options let a case with legitimate repetition through', () => {
    const zeros = fromTokens(['[', ...Array.from({ length: 12 }, () => ['0', ',']).flat(), ']']);
    expect(check(zeros).status).toBe('fail');
    expect(check(zeros, { loopCoverage: 2 }).status).toBe('pass');
  });

  it('errors on a bad option instead of guessing', () => {
    for (const bad of [{ garbageRun: 0 }, { tokenRepeat: 2.5 }, { loopRepeats: 1 }, { loopCoverage: 'half' }]) {
      const v = check(fromTokens(['a']), bad);
      expect(v.status).toBe('error');
      expect(v.message).toMatch(/^degeneration option \w+ must be/);
    }
  });
});

// Q8_0 weights, conform serve --gpu cpu, smoke/chat-multi-turn at its own max_tokens 24
// (bench/degeneration-calibration.ts): "9","5" ×6 cut off by the cap; given 96 tokens the model leaves the loop at 25.
const Q8_MULTI_TURN_24 = ['O', ' small', 'umb', '3', ' one', 'f', 'lo', ' code', ' 0', 'arn', 'France', 'm', '9', '5', '9', '5', '9', '5', '9', '5', '9', '5', '9', '5'];
const inClass = (s: Sample, tolerance: Tolerance, options: Record<string, unknown> = {}) =>
  degeneration.compare(input({ sample: s, tolerance, spec: { kind: 'degeneration', ...options } }));

describe('degeneration: limits a tolerance class carries', () => {
  it("cpu-q8: Q8_0's healthy 50% loop passes in its class, and fails cpu's 0.5, with the class's limit in the verdict", () => {
    const healthy = fromTokens(Q8_MULTI_TURN_24);
    const q8 = inClass(healthy, resolveTolerance('cpu-q8'));
    expect(q8.status).toBe('pass');
    expect(q8.details?.thresholds).toEqual({ ...DEFAULT_DEGENERATION, loopCoverage: 0.75 });
    expect(q8.message).toContain('largest loop 50% of the output');
    const cpu = inClass(healthy, resolveTolerance('cpu'));
    expect(cpu.status).toBe('fail');
    expect(cpu).toMatchObject({ measured: 0.5, threshold: 0.5 });
  });

  it('cpu-q8 still catches a loop that runs to the end, and "????"', () => {
    const q8 = resolveTolerance('cpu-q8');
    const phrase = [' I', ' am', ' a', ' helpful', ' assistant', '.'];
    const toTheEnd = inClass(fromTokens([...PREFIX.slice(0, 4), ...Array.from({ length: 10 }, () => phrase).flat()]), q8);
    expect(toTheEnd.status).toBe('fail');
    expect(toTheEnd).toMatchObject({ measured: 60 / 64, threshold: 0.75 });
    // A loop over three quarters of the output is one; just under is not.
    expect(inClass(fromTokens([...PREFIX.slice(0, 6), ...Array(9).fill(['9', '5']).flat()]), q8).status).toBe('fail');
    expect(inClass(fromTokens([...PREFIX.slice(0, 7), ...Array(9).fill(['9', '5']).flat()]), q8).status).toBe('pass');
    expect(inClass(fromTokens([...PREFIX, '??', '??', ' w99']), q8).status).toBe('fail');
  });

  it("the check's own options win over the class's, and a backend or case override keeps the class's other limits", () => {
    const healthy = fromTokens(Q8_MULTI_TURN_24);
    expect(inClass(healthy, resolveTolerance('cpu-q8'), { loopCoverage: 0.5 }).status).toBe('fail');
    const narrowed = resolveTolerance('cpu-q8', { degeneration: { tokenRepeat: 3 } });
    expect(narrowed.degeneration).toEqual({ loopCoverage: 0.75, tokenRepeat: 3 });
    const v = inClass(healthy, narrowed);
    expect(v.details?.thresholds).toMatchObject({ loopCoverage: 0.75, tokenRepeat: 3 });
    expect(v.status).toBe('pass');
    expect(inClass(fromTokens([...PREFIX, ' a', ' a', ' a']), narrowed).status).toBe('fail');
  });

  it("a bad limit in the tolerance is an error that says it came from the tolerance", () => {
    const v = inClass(fromTokens(['a']), { ...resolveTolerance('cpu'), degeneration: { loopCoverage: -1 } });
    expect(v.status).toBe('error');
    expect(v.message).toBe('degeneration tolerance degeneration.loopCoverage must be a number ≥ 0, got -1');
  });
});

// --- Properties -------------------------------------------------------------------------------

const plainToken = fc.stringMatching(/^[ a-zA-Z0-9.,!]{1,5}$/);
const distinctTokens = fc.uniqueArray(plainToken, { minLength: 0, maxLength: 200 });
const anyTokens = fc.array(fc.constantFrom(' a', ' b', 'c', '?', '\uFFFD', ' d'), { maxLength: 120 });
const options: fc.Arbitrary<DegenerationOptions> = fc.record({
  garbageRun: fc.integer({ min: 1, max: 12 }),
  tokenRepeat: fc.integer({ min: 2, max: 12 }),
  loopRepeats: fc.integer({ min: 2, max: 8 }),
  loopCoverage: fc.integer({ min: 0, max: 120 }).map((x) => x / 100),
});
const looser = fc
  .tuple(options, fc.nat({ max: 6 }), fc.nat({ max: 6 }), fc.nat({ max: 6 }), fc.nat({ max: 60 }))
  .map(([o, a, b, c, d]): [DegenerationOptions, DegenerationOptions] => [
    o,
    { garbageRun: o.garbageRun + a, tokenRepeat: o.tokenRepeat + b, loopRepeats: o.loopRepeats + c, loopCoverage: o.loopCoverage + d / 100 },
  ]);

/** Brute force: the largest span of a 2-to-32 unit repeated back-to-back at least `min` times. */
function bruteLoopSpan(keys: string[], min: number): number {
  let best = 0;
  for (let p = 2; p <= 32; p++)
    for (let i = 0; i + p <= keys.length; i++) {
      let copies = 1;
      while (i + (copies + 1) * p <= keys.length && keys.slice(i, i + p).every((k, j) => k === keys[i + copies * p + j])) copies++;
      if (copies >= min) best = Math.max(best, copies * p);
    }
  return best;
}

describe('degeneration: properties', () => {
  it('never fires on distinct tokens without "?" or U+FFFD, whatever the options', () => {
    fc.assert(
      fc.property(distinctTokens, options, (tokens, o) => {
        expect(findings(fromTokens(tokens), o)).toEqual([]);
        expect(check(fromTokens(tokens), o as unknown as CheckSpec).status).toBe('pass');
      }),
      { numRuns: 300 },
    );
  });

  it('never fires on text of distinct words', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.stringMatching(/^[a-z]{1,8}$/), { maxLength: 150 }), (words) => {
        expect(check(sample({ text: words.join(' ') })).status).toBe('pass');
      }),
      { numRuns: 200 },
    );
  });

  it('monotone in thresholds: what passes passes under looser options', () => {
    fc.assert(
      fc.property(anyTokens, looser, (tokens, [tight, loose]) => {
        const s = fromTokens(tokens);
        if (findings(s, tight).length === 0) expect(findings(s, loose)).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it('longestLoop and longestRepeat agree with brute force', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 60 }), fc.integer({ min: 2, max: 6 }), (keys, min) => {
        expect(longestLoop(keys, min)?.span ?? 0).toBe(bruteLoopSpan(keys, min));
        let best = keys.length > 0 ? 1 : 0;
        for (let i = 0; i < keys.length; i++) {
          let j = i;
          while (j < keys.length && keys[j] === keys[i]) j++;
          best = Math.max(best, j - i);
        }
        expect(longestRepeat(keys).copies).toBe(best);
      }),
      { numRuns: 500 },
    );
  });
});
