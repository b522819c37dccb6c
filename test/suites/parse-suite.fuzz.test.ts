import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConformError } from '../../src/core/errors.ts';
import { parseSuite } from '../../src/suites/parse-suite.ts';
import { fragmentText, junkText, mangledSuite } from './support/suite-arbitraries.ts';

const FILE = 'suites/fuzz.yaml';
// Every line of a suite error names the file and line:col, except the count of the ones not listed.
const LINE = /^suites\/fuzz\.yaml:\d+:\d+: \S/;
const MORE = /^… and [\d,]+ more in suites\/fuzz\.yaml$/;

/** Parses and sorts the outcome: a suite, a well-formed SUITE_INVALID error, or anything else (a bug). */
function outcome(text: string): { ok: true } | { ok: false; message: string } | { bug: unknown } {
  try {
    parseSuite(text, FILE);
    return { ok: true };
  } catch (error) {
    if (!(error instanceof ConformError) || error.code !== 'SUITE_INVALID') return { bug: error };
    const lines = error.message.split('\n');
    if (!lines.every((line, i) => LINE.test(line) || (i === lines.length - 1 && MORE.test(line)))) return { bug: error };
    return { ok: false, message: lines[0]!.replace(/^[^:]+:\d+:\d+: /, '') };
  }
}

describe('parseSuite under fuzzing', () => {
  it('turns 100,000 hostile inputs into suites or located SUITE_INVALID errors, never anything else', () => {
    const messages = new Set<string>();
    const bugs: unknown[] = [];
    let runs = 0;
    const property = (text: string) => {
      runs++;
      const result = outcome(text);
      if ('bug' in result) bugs.push(result.bug);
      else if (!result.ok) messages.add(result.message);
      return !('bug' in result);
    };
    fc.assert(fc.property(fragmentText, property), { numRuns: 70_000, seed: 20260101 });
    fc.assert(fc.property(junkText, property), { numRuns: 20_000, seed: 20260102 });
    fc.assert(fc.property(mangledSuite, property), { numRuns: 10_000, seed: 20260103 });
    expect(bugs).toEqual([]);
    expect(runs).toBe(100_000);
    // The inputs reach far into the parser, not only its first YAML check.
    expect(messages.size).toBeGreaterThan(200);
    expect([...messages].some((m) => m.includes('{{filler words=2000000000}}: words must be an integer from 1 to 200000'))).toBe(true);
    expect([...messages].some((m) => /alias \*\w+ has no anchor/.test(m))).toBe(true);
  }, 120_000);
});
