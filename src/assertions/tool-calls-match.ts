import type { Case, ToolCall } from '../core/types.ts';
import type { Comparator } from './comparator.ts';

// BFCL's AST checker (ANCHORS.md): names match, required parameters present, types exact except
// int → float, strings normalized, parallel calls in any order, no numeric tolerance unless asked.

const normalize = (s: string) => s.toLowerCase().replace(/[\s\p{P}]/gu, '');

function valuesMatch(expected: unknown, got: unknown, tolerance: number): boolean {
  if (typeof expected === 'number' && typeof got === 'number') {
    // An integer where a float was expected is fine; a float where an integer was expected is not.
    if (Number.isInteger(expected) && !Number.isInteger(got) && tolerance === 0) return false;
    return Math.abs(expected - got) <= tolerance;
  }
  if (typeof expected === 'string' && typeof got === 'string') return normalize(expected) === normalize(got);
  if (Array.isArray(expected) && Array.isArray(got)) return expected.length === got.length && expected.every((e, i) => valuesMatch(e, got[i], tolerance));
  if (expected && got && typeof expected === 'object' && typeof got === 'object')
    return argsMatch(expected as Record<string, unknown>, got as Record<string, unknown>, [], tolerance) === undefined;
  return expected === got;
}

function argsMatch(expected: Record<string, unknown>, got: Record<string, unknown>, required: string[], tolerance: number): string | undefined {
  for (const key of required) if (!(key in got)) return `required argument "${key}" is missing`;
  for (const key of Object.keys(got)) if (!(key in expected)) return `argument "${key}" is not in the golden call`;
  for (const [key, value] of Object.entries(expected)) {
    if (!(key in got)) {
      if (required.includes(key)) return `required argument "${key}" is missing`;
      continue;
    }
    if (!valuesMatch(value, got[key], tolerance)) return `argument "${key}": golden ${JSON.stringify(value)}, got ${JSON.stringify(got[key])}`;
  }
  return undefined;
}

function parse(call: ToolCall): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(call.arguments) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function requiredOf(testCase: Case, name: string): string[] {
  const parameters = testCase.params.tools?.find((t) => t.function.name === name)?.function.parameters as { required?: string[] } | undefined;
  return parameters?.required ?? [];
}

function callMismatch(expected: ToolCall, got: ToolCall, testCase: Case, tolerance: number): string | undefined {
  if (expected.name !== got.name) return `called ${got.name}, golden called ${expected.name}`;
  const e = parse(expected);
  const g = parse(got);
  if (!g) return `arguments of ${got.name} are not a JSON object string`;
  if (!e) return `golden arguments of ${expected.name} are not a JSON object`;
  return argsMatch(e, g, requiredOf(testCase, got.name), tolerance);
}

/** Finds a one-to-one pairing of calls, in any order; parallel calls are a set, not a list. */
function pairCalls(expected: ToolCall[], got: ToolCall[], testCase: Case, tolerance: number): string | undefined {
  let firstProblem: string | undefined;
  const used = new Set<number>();
  const search = (i: number): boolean => {
    if (i === expected.length) return true;
    for (let j = 0; j < got.length; j++) {
      if (used.has(j)) continue;
      const problem = callMismatch(expected[i]!, got[j]!, testCase, tolerance);
      if (problem) {
        firstProblem ??= problem;
        continue;
      }
      used.add(j);
      if (search(i + 1)) return true;
      used.delete(j);
    }
    return false;
  };
  return search(0) ? undefined : (firstProblem ?? 'no pairing of the calls matches');
}

/** Tool calls equivalent to golden by BFCL's rules; numeric tolerance is opt-in (`numericTolerance`). */
export const toolCallsMatch: Comparator = {
  kind: 'tool-calls-match',
  needsReference: true,
  compare({ sample, reference, spec, testCase }) {
    if (!reference) throw new Error('tool-calls-match needs a reference');
    const tolerance = typeof spec.numericTolerance === 'number' ? spec.numericTolerance : 0;
    const expected = reference.toolCalls;
    const got = sample.toolCalls;
    const threshold = tolerance ? `BFCL rules, numbers ±${tolerance}` : 'BFCL rules';
    if (expected.length !== got.length)
      return { check: 'tool-calls-match', status: 'fail', measured: got.length, threshold: `${expected.length} calls`, message: `${got.length} tool calls, golden made ${expected.length}${expected.length === 0 ? ' (an irrelevance case passes only when no call is made)' : ''}` };
    const problem = pairCalls(expected, got, testCase, tolerance);
    if (problem) return { check: 'tool-calls-match', status: 'fail', measured: 'mismatch', threshold, message: problem };
    return { check: 'tool-calls-match', status: 'pass', measured: `${got.length} calls`, threshold, message: got.length ? `${got.length} call(s) match golden: ${got.map((c) => c.name).join(', ')}` : 'no calls, as in golden' };
  },
};
