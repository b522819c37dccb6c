// Output that is no longer language: the `????` and looping text llama.cpp's Vulkan backend produced past
// a prompt length (ggml-org/llama.cpp #5241, #17055, ANCHORS.md). Needs no reference, so it also catches a
// backend that is wrong on a case golden never covered.
//
// Three rules, reported in this order, each with the offending span and where it starts:
// 1. garbage: a run of `?` or U+FFFD (mixed) in the final text, at least `garbageRun` characters long. Always
//    on `text`, not on token strings: servers show each byte of a multi-byte character as its own U+FFFD
//    token, so a healthy emoji would look like garbage there. Mapped to a token index when the token strings
//    concatenate to the text.
// 2. repeat: one token repeated back-to-back at least `tokenRepeat` times.
// 3. loop: a unit of 2 to 32 tokens repeated back-to-back at least `loopRepeats` times, the whole loop
//    covering at least `loopCoverage` of the output's tokens. A share, not a count of repeated n-grams: the
//    fixture model's healthy greedy text repeats a 4-gram up to 16 times in 256 tokens (see below), which a
//    fixed count cannot tell from a loop, while real degeneration takes the output over.
// Rules 2 and 3 run on tokens (by id when the server gives ids) when logprobs came back, else on the
// whitespace-separated words of the text, which misses loops inside one word.
//
// Calibration (bench/degeneration-calibration.ts reruns it): conform serve --gpu cpu --threads 1, fixture model
// conform-tiny at F32, F16, Q8_0 and Q4_0; the 13 smoke prompts at temperature 0 with max_tokens 24, 96 and 256,
// streamed and not, with logprobs (78 samples per precision, all with tokens), and the 39 chat and completion
// cases of the bundled suites as sent. 2026-12-02, on tokens:
//   F32   no `?`/U+FFFD run; longest repeat 12 ("ather" ×12, completion-stream at 256; the first calibration saw 8,
//         "ject", chat-multi-turn at 96 and 256); largest loop share 0.33 ("9","5" ×4 in 24 tokens, chat-multi-turn)
//         and 0.28 at 256 tokens ("ow re know ax me w", 6 tokens ×12, chat-longer-prompt).
//   F16   the same loops; longest repeat 5.
//   Q8_0  longest repeat 9; largest loop share 0.50 ("9","5" ×6 in chat-multi-turn's 24 tokens, the suite's own
//         case: max_tokens cuts a loop the model leaves at token 25 when given 96), 0.42 at 256 (chat-hello). Its
//         tolerance class cpu-q8 carries loopCoverage 0.75 (core/tolerance.ts).
//   Q4_0  longest repeat 3, largest loop share 0.33; no class, and far outside cpu-q8's logprob figures.
// A 4-gram recurs up to 16 times (completion-basic, 256), and "repeat ≥ 8 or a 4-gram ≥ 4 times" would flag 13 of
// the 39 distinct F32 outputs. On words (logprobs dropped), longest repeat: F32 5, Q8_0 13 (a 2-token loop whose
// tokens join into one word), Q4_0 21; largest loop share F32 0.28, Q8_0 0.42, Q4_0 0.39.
// With each precision's class, none of the limits below fires on F32, F16 or Q8_0 tokens or words; `????`, a token
// ×14 and a looped phrase do (tests).

import type { CheckSpec, DegenerationThresholds, Sample, Tolerance, TokenStep, Verdict } from '../core/types.ts';
import type { Comparator } from './comparator.ts';

const CHECK = 'degeneration';

/** The check's limits; see DegenerationThresholds in core/types.ts. */
export type DegenerationOptions = DegenerationThresholds;

export const DEFAULT_DEGENERATION: DegenerationOptions = {
  // ANCHORS.md: llama.cpp Vulkan's garbage is `????`; healthy cpu output above had no run of even 1.
  garbageRun: 4,
  // Healthy cpu output above repeats a token up to 12 times in a row; 14 leaves the first calibration's margin of 2
  // (it saw 8 and chose 10, which fired on F32's "ather" ×12).
  tokenRepeat: 14,
  // A phrase said 4 times in a row (the brief's "≥ 4 times"); alone it fires on healthy text ("95" ×4).
  loopRepeats: 4,
  // Healthy F32 and F16 loops cover at most 0.33 of the output above (Q8_0's 0.50 is its class's business); a
  // degenerate backend loops to the end.
  loopCoverage: 0.5,
};

/** Longest unit of a loop, in tokens: a sentence of a looping answer. */
export const MAX_LOOP_PERIOD = 32;

type Rule = 'garbage' | 'repeat' | 'loop';

export interface Finding {
  rule: Rule;
  measured: number;
  threshold: number;
  /** The offending text, as it appears in the output. */
  span: string;
  /** First token (or word, see `unit`) of the span; null when the text cannot be mapped to tokens. */
  index: number | null;
  /** Character offset of the span in the text, where known. */
  charOffset: number | null;
  unit: 'token' | 'word';
  note: string;
}

/** One element the token rules work on: its identity and its text. */
interface Unit {
  key: string;
  text: string;
  offset: number | null;
}

function unitsOf(sample: Sample): { units: Unit[]; kind: 'token' | 'word' } {
  if (sample.tokens.length > 0) {
    let offset: number | null = 0;
    const aligned = sample.tokens.map((t) => t.token).join('') === sample.text;
    const units = sample.tokens.map((t: TokenStep): Unit => {
      const unit = { key: t.id !== undefined ? `#${t.id}` : `s${t.token}`, text: t.token, offset: aligned ? offset : null };
      if (offset !== null) offset += t.token.length;
      return unit;
    });
    return { units, kind: 'token' };
  }
  const units = [...sample.text.matchAll(/\S+/g)].map((m): Unit => ({ key: m[0], text: m[0], offset: m.index! }));
  return { units, kind: 'word' };
}

/** Index of the token that holds character `offset`, when token strings spell the text. */
function tokenAt(units: Unit[], offset: number): number | null {
  let found: number | null = null;
  for (let i = 0; i < units.length; i++) {
    const start = units[i]!.offset;
    if (start === null) return null;
    if (start <= offset && units[i]!.text.length > 0) found = i;
    if (start > offset) break;
  }
  return found;
}

/** The longest run of `?`/U+FFFD in the text. */
export function longestGarbageRun(text: string): { length: number; offset: number } {
  let best = { length: 0, offset: 0 };
  for (const m of text.matchAll(/[?\uFFFD]+/g)) if (m[0].length > best.length) best = { length: m[0].length, offset: m.index! };
  return best;
}

/** The longest run of one unit repeated back-to-back. */
export function longestRepeat(keys: readonly string[]): { copies: number; start: number } {
  let best = { copies: keys.length > 0 ? 1 : 0, start: 0 };
  let start = 0;
  for (let i = 1; i <= keys.length; i++) {
    if (i < keys.length && keys[i] === keys[start]) continue;
    if (i - start > best.copies) best = { copies: i - start, start };
    start = i;
  }
  return best;
}

export interface Loop {
  start: number;
  period: number;
  copies: number;
  /** Tokens covered: period × copies. */
  span: number;
}

/**
 * The back-to-back repetition of a 2-to-MAX_LOOP_PERIOD unit with at least `minCopies` copies that covers
 * the most tokens. For each period p, positions i with keys[i] = keys[i+p] form runs; a run of length L
 * starting at s is the unit keys[s..s+p) repeated ⌊L/p⌋ + 1 times. O(MAX_LOOP_PERIOD · n).
 */
export function longestLoop(keys: readonly string[], minCopies: number): Loop | undefined {
  let best: Loop | undefined;
  const n = keys.length;
  for (let p = 2; p <= MAX_LOOP_PERIOD && p * minCopies <= n; p++) {
    let run = 0;
    for (let i = 0; i <= n - p; i++) {
      if (i < n - p && keys[i] === keys[i + p]) {
        run++;
        continue;
      }
      if (run > 0) {
        const copies = Math.floor(run / p) + 1;
        const span = copies * p;
        if (copies >= minCopies && (!best || span > best.span)) best = { start: i - run, period: p, copies, span };
      }
      run = 0;
    }
  }
  return best;
}

const clip = (s: string): string => JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}...` : s);

/** Every rule that fires on the sample, in rule order, with what the rules measured. */
export interface DegenerationMeasurements {
  unit: 'token' | 'word';
  units: number;
  longestGarbageRun: number;
  longestRepeat: number;
  /** The loop with at least `loopRepeats` copies that covers the most, whether or not it fires. */
  loop: (Loop & { coverage: number }) | null;
}

export function findDegeneration(sample: Sample, options: DegenerationOptions): { findings: Finding[]; measurements: DegenerationMeasurements } {
  const findings: Finding[] = [];
  const { units, kind } = unitsOf(sample);
  const keys = units.map((u) => u.key);
  const spanText = (start: number, count: number): string => units.slice(start, start + count).map((u) => u.text).join(kind === 'word' ? ' ' : '');

  const garbage = longestGarbageRun(sample.text);
  if (garbage.length >= options.garbageRun) {
    const index = kind === 'token' ? tokenAt(units, garbage.offset) : null;
    findings.push({
      rule: 'garbage',
      measured: garbage.length,
      threshold: options.garbageRun,
      span: sample.text.slice(garbage.offset, garbage.offset + garbage.length),
      index,
      charOffset: garbage.offset,
      unit: kind,
      note: `a run of ${garbage.length} "?"/U+FFFD ${index !== null ? `at token ${index}` : `at character ${garbage.offset}`}: ${clip(sample.text.slice(garbage.offset, garbage.offset + garbage.length))}`,
    });
  }

  const repeat = longestRepeat(keys);
  if (repeat.copies >= options.tokenRepeat) {
    const unit = units[repeat.start]!;
    findings.push({
      rule: 'repeat',
      measured: repeat.copies,
      threshold: options.tokenRepeat,
      span: spanText(repeat.start, repeat.copies),
      index: repeat.start,
      charOffset: unit.offset,
      unit: kind,
      note: `${kind} ${JSON.stringify(unit.text)} repeated ${repeat.copies} times in a row at ${kind} ${repeat.start}`,
    });
  }

  const loop = longestLoop(keys, options.loopRepeats);
  const coverage = loop && units.length > 0 ? loop.span / units.length : 0;
  if (loop && coverage >= options.loopCoverage) {
    findings.push({
      rule: 'loop',
      measured: coverage,
      threshold: options.loopCoverage,
      span: spanText(loop.start, loop.span),
      index: loop.start,
      charOffset: units[loop.start]!.offset,
      unit: kind,
      note: `a ${loop.period}-${kind} phrase ${clip(spanText(loop.start, loop.period))} loops ${loop.copies} times from ${kind} ${loop.start}, ${(coverage * 100).toFixed(0)}% of the output`,
    });
  }

  const measurements: DegenerationMeasurements = {
    unit: kind,
    units: units.length,
    longestGarbageRun: garbage.length,
    longestRepeat: repeat.copies,
    loop: loop ? { ...loop, coverage } : null,
  };
  return { findings, measurements };
}

/**
 * The check's options: the defaults, then the backend's tolerance (its class's degeneration limits, with backend
 * and case overrides, as resolveTolerance merged them), then the check's own options; or a message naming the bad one.
 */
export function degenerationOptions(spec: CheckSpec, tolerance?: Pick<Tolerance, 'degeneration'>): DegenerationOptions | string {
  const options = { ...DEFAULT_DEGENERATION };
  const minimum: Record<keyof DegenerationOptions, number> = { garbageRun: 1, tokenRepeat: 2, loopRepeats: 2, loopCoverage: 0 };
  const sources: Array<[string, Partial<Record<keyof DegenerationOptions, unknown>>]> = [
    ['tolerance degeneration.', tolerance?.degeneration ?? {}],
    ['option ', spec as Partial<Record<keyof DegenerationOptions, unknown>>],
  ];
  for (const [where, given] of sources)
    for (const name of Object.keys(minimum) as Array<keyof DegenerationOptions>) {
      const value = given[name];
      if (value === undefined) continue;
      const integer = name !== 'loopCoverage';
      if (typeof value !== 'number' || Number.isNaN(value) || value < minimum[name] || (integer && !Number.isInteger(value) && value !== Infinity))
        return `${CHECK} ${where}${name} must be ${integer ? 'an integer' : 'a number'} ≥ ${minimum[name]}, got ${JSON.stringify(value)}`;
      options[name] = value;
    }
  return options;
}

/** Flags `????`, a token stuck on repeat, and a phrase looping over the output. Needs no reference. */
export const degeneration: Comparator = {
  kind: CHECK,
  needsReference: false,
  compare({ sample, spec, tolerance }): Verdict {
    const options = degenerationOptions(spec, tolerance);
    if (typeof options === 'string') return { check: CHECK, status: 'error', message: options };
    const { findings, measurements } = findDegeneration(sample, options);
    const details = { findings, measurements, thresholds: options };
    const first = findings[0];
    if (first)
      return {
        check: CHECK,
        status: 'fail',
        measured: first.measured,
        threshold: first.threshold,
        message: `degenerate output: ${first.note}${findings.length > 1 ? ` (also: ${findings.slice(1).map((f) => f.rule).join(', ')})` : ''}`,
        details,
      };
    const loop = measurements.loop;
    return {
      check: CHECK,
      status: 'pass',
      measured: 0,
      threshold: 'no finding',
      message: `no degeneration over ${measurements.units} ${measurements.unit}s: longest "?" run ${measurements.longestGarbageRun}, longest repeat ${measurements.longestRepeat}, ${loop ? `largest loop ${(loop.coverage * 100).toFixed(0)}% of the output` : 'no loop'}`,
      details,
    };
  },
};
