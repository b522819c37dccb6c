import type { BackendIdentity, Case, CheckSpec, GoldenProvenance, Sample, Tolerance, Verdict } from '../core/types.ts';

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
  /** What the backend said about itself at run time (model, sha256, fingerprint, context size). */
  identity?: BackendIdentity;
  /** How golden was recorded: the reference's identity and model. */
  goldenProvenance?: GoldenProvenance;
}

/** A pure, synchronous judgement of one sample. */
export interface Comparator {
  readonly kind: string;
  readonly needsReference: boolean;
  /**
   * Compares tokens or text with golden's, which means something only when both read the same prompt; when
   * the prompt token counts differ, the check is skipped and the prompt-tokens verdict names the cause.
   */
  readonly needsSamePrompt?: boolean;
  compare(input: CompareInput): Verdict;
  /** The ids of other cases of the suite whose samples this check reads through `siblings`; none when absent. */
  referencedCases?(spec: CheckSpec): string[];
}
