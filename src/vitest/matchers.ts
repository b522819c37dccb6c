import { expect } from 'vitest';
import { evaluateSample } from '../assertions/evaluate.ts';
import { resolveTolerance } from '../core/tolerance.ts';
import type { Case, CheckSpec, Sample, Tolerance, Verdict } from '../core/types.ts';

export interface ConformWithOptions {
  /** @default [{ kind: 'greedy-divergence' }] */
  checks?: CheckSpec[];
  /** Tolerance class of the backend under test. @default 'default' */
  backendClass?: string;
  tolerance?: Partial<Tolerance>;
  /** The case the samples answer, for checks that read it (schemas, tools). */
  testCase?: Case;
}

function judge(received: Sample, golden: Sample, options: ConformWithOptions = {}): Verdict[] {
  const checks = options.checks ?? [{ kind: 'greedy-divergence' }];
  const testCase: Case = { ...(options.testCase ?? { id: 'vitest', endpoint: 'chat', messages: [], params: {} }), checks };
  return evaluateSample({
    testCase,
    sample: received,
    reference: golden,
    sameBackendAsReference: false,
    tolerance: resolveTolerance(options.backendClass ?? 'default', options.tolerance),
    backendClass: options.backendClass,
  });
}

/** Matchers that judge a Sample exactly as `conform run` would, so teams can write conformance cases in their own vitest suites. */
export const conformMatchers = {
  toConformWith(received: Sample, golden: Sample, options?: ConformWithOptions) {
    const verdicts = judge(received, golden, options);
    const bad = verdicts.filter((v) => v.status === 'fail' || v.status === 'error');
    return {
      pass: bad.length === 0,
      message: () =>
        bad.length === 0
          ? `expected the sample not to conform, but every check passed: ${verdicts.map((v) => `${v.check}: ${v.message}`).join('; ')}`
          : `expected the sample to conform with golden:\n${bad.map((v) => `  ${v.check} ${v.status}: ${v.message}`).join('\n')}`,
    };
  },
};

/** Registers the matchers on vitest's expect; call it once in a setup file or at the top of a test file. */
export function installConformMatchers(): void {
  expect.extend(conformMatchers);
}

// vitest's documented extension point. Augmenting Assertion instead, which vitest re-exports from
// @vitest/expect, took effect in a user's project only when 'vitest' was imported before 'conform/vitest'.
declare module 'vitest' {
  interface Matchers<T = any> {
    toConformWith(golden: Sample, options?: ConformWithOptions): T;
  }
}
