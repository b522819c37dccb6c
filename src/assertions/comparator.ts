import type { Case, CheckSpec, Sample, Tolerance, Verdict } from '../core/types.ts';

/** Everything a comparator may look at; it must not reach for anything else. */
export interface CompareInput {
  sample: Sample;
  /** The golden sample, when one exists for this case. */
  reference?: Sample;
  /** True when the sample came from the backend the golden was recorded on. */
  sameBackendAsReference: boolean;
  tolerance: Tolerance;
  spec: CheckSpec;
  testCase: Case;
  /** Samples of earlier cases of the same suite on the same backend, by case id (for checks such as matches-case). */
  siblings?: ReadonlyMap<string, Sample>;
  /** The backend's tolerance class, for budgets that differ by class. */
  backendClass?: string;
}

/** A pure, synchronous judgement of one sample. */
export interface Comparator {
  readonly kind: string;
  readonly needsReference: boolean;
  compare(input: CompareInput): Verdict;
}
