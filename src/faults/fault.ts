// A fault is a pure transformation of a sample a backend really gave: what the answer would have been had
// the backend had this bug. The selftest re-judges the faulted samples to prove conform notices.
import type { Case, Sample, TokenStep } from '../core/types.ts';

export interface FaultContext {
  /** The golden sample of this case, where one exists. */
  reference?: Sample;
  /** The sample of the previous case of the same suite on the same backend (plan order). */
  previous?: Sample;
}

export interface FaultDefinition {
  name: string;
  /** must-catch: a real bug conform has to flag; must-pass: a harmless perturbation it must not flag. */
  kind: 'must-catch' | 'must-pass';
  /** Whose samples it perturbs: 'reference' the backend golden was recorded on (cpu), 'other' every other backend. */
  backend: 'reference' | 'other';
  description: string;
  /** The comparators expected to catch it; 'sample' is the error verdict of a non-ok sample, 'gate:…' the release gate. */
  expect: string[];
  applies(testCase: Case): boolean;
  /** Returns the faulted sample, or the same object when this sample offers nothing to perturb. */
  apply(sample: Sample, testCase: Case, context: FaultContext): Sample;
}

export const clone = <T>(value: T): T => structuredClone(value);

export const hasCheck = (testCase: Case, kind: string) => testCase.checks.some((c) => c.kind === kind);

export const requestCase = (testCase: Case) => testCase.endpoint === 'chat' || testCase.endpoint === 'completion';

/** True when the text is exactly the concatenation of the tokens, so both can be changed together. */
export const textIsTokens = (sample: Sample) => sample.tokens.length > 0 && sample.tokens.map((t) => t.token).join('') === sample.text;

/** Sets the tokens and, where the text was their concatenation, the text with them. */
export function withTokens(sample: Sample, tokens: TokenStep[]): Sample {
  const rebuilt = textIsTokens(sample);
  return { ...sample, tokens, ...(rebuilt && { text: tokens.map((t) => t.token).join('') }) };
}

/** Adds `delta` to a step's logprob and to the same token's entry among its alternatives, keeping them consistent. */
export function shiftStep(step: TokenStep, delta: number): TokenStep {
  const same = (t: { token: string; id?: number }) => (t.id !== undefined && step.id !== undefined ? t.id === step.id : t.token === step.token);
  return {
    ...step,
    logprob: step.logprob === undefined ? undefined : Math.min(0, step.logprob + delta),
    top: step.top.map((alt) => (same(alt) ? { ...alt, logprob: Math.min(0, alt.logprob + delta) } : alt)),
  };
}
