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
}

/** A pure, synchronous judgement of one sample. */
export interface Comparator {
  readonly kind: string;
  readonly needsReference: boolean;
  compare(input: CompareInput): Verdict;
}
