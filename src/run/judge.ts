import { evaluateSample } from '../assertions/evaluate.ts';
import { resolveTolerance } from '../core/tolerance.ts';
import type { BackendIdentity, Case, GoldenFile, Sample, Tolerance, Verdict } from '../core/types.ts';

export interface JudgeInput {
  testCase: Case;
  sample: Sample;
  golden: GoldenFile | undefined;
  backend: { name: string; class: string; tolerance?: Partial<Tolerance> };
  siblings: ReadonlyMap<string, Sample>;
  /** What the backend said about itself (probe-identity): model, sha256, fingerprint, context size. */
  identity?: BackendIdentity;
}

/** The verdicts `conform run` gives one sample in compare mode: golden of the suite, tolerances by class, backend and case. */
export function judgeSample({ testCase, sample, golden, backend, siblings, identity }: JudgeInput): Verdict[] {
  const reference = golden?.samples[testCase.id];
  return evaluateSample({
    testCase,
    sample,
    reference,
    sameBackendAsReference: golden?.provenance.backend === backend.name,
    tolerance: resolveTolerance(backend.class, backend.tolerance, testCase.tolerance),
    siblings,
    backendClass: backend.class,
    identity,
    goldenProvenance: golden?.provenance,
    referenceUnsupported: reference ? undefined : golden?.provenance.unsupported?.[testCase.id],
  });
}
