// The judge for the fast YAML reader: whenever it returns a value, the slow path (the yaml library's
// Document) must have found no problem at all and must give the same value, key order and -0 included.
import { LineCounter, parseDocument } from 'yaml';
import { readPlainYaml } from '../../../src/suites/fast-yaml.ts';
import { MAX_ALIAS_EXPANSION, structureProblems, syntaxProblems } from '../../../src/suites/yaml-checks.ts';

/** Same primitives (Object.is, so -0 and NaN count), same array items, same keys in the same order. */
export function sameData(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return Object.is(a, b);
  if (Array.isArray(a) !== Array.isArray(b) || Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length || keysA.some((key, i) => key !== keysB[i])) return false;
  return keysA.every((key) => sameData((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
}

/** What the slow path makes of a text: its problems, or its value. */
export function slowReading(text: string): { problems: string[] } | { value: unknown } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, logLevel: 'error', prettyErrors: false });
  const problems = [...syntaxProblems(doc, lineCounter), ...structureProblems(doc, lineCounter, text)].map((p) => p.message);
  if (problems.length) return { problems };
  try {
    return { value: doc.toJS({ maxAliasCount: MAX_ALIAS_EXPANSION }) };
  } catch (error) {
    return { problems: [String(error)] };
  }
}

/** Undefined when the fast reader declined or agrees with the slow path; otherwise what went wrong. */
export function disagreement(text: string): string | undefined {
  const fast = readPlainYaml(text);
  if (fast === undefined) return undefined;
  const slow = slowReading(text);
  if ('problems' in slow) return `fast read a value where the slow path finds: ${slow.problems.join('; ')}`;
  if (!sameData(fast, slow.value)) return `fast ${JSON.stringify(fast)} but slow ${JSON.stringify(slow.value)}`;
  return undefined;
}
