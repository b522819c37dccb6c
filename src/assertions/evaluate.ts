import type { Case, Sample, Tolerance, Verdict } from '../core/types.ts';
import { COMPARATORS } from './index.ts';

export interface EvaluateInput {
  testCase: Case;
  sample: Sample;
  reference?: Sample;
  sameBackendAsReference: boolean;
  tolerance: Tolerance;
  siblings?: ReadonlyMap<string, Sample>;
  backendClass?: string;
}

/** Runs every check a case asks for. A sample that is not `ok` gets one error verdict: there is nothing to compare. */
export function evaluateSample({ testCase, sample, reference, sameBackendAsReference, tolerance, siblings, backendClass }: EvaluateInput): Verdict[] {
  if (sample.kind !== 'ok')
    return [{ check: 'sample', status: 'error', measured: sample.kind, message: `${sample.kind}: ${sample.error?.message ?? 'no details'}` }];
  return testCase.checks.map((spec) => {
    const comparator = COMPARATORS.get(spec.kind);
    if (!comparator) return { check: spec.kind, status: 'error', message: `unknown check kind "${spec.kind}"; known: ${[...COMPARATORS.keys()].join(', ')}` };
    if (comparator.needsReference && !reference)
      return { check: spec.kind, status: 'error', message: `no golden sample for case "${testCase.id}"; record one with "conform record --backend <reference>"` };
    return comparator.compare({ sample, reference, sameBackendAsReference, tolerance, spec, testCase, siblings, backendClass });
  });
}
