import { notOkStatus } from '../core/outcome.ts';
import type { BackendIdentity, Case, CheckSpec, GoldenProvenance, Sample, Tolerance, Verdict } from '../core/types.ts';
import type { CompareInput } from './comparator.ts';
import { COMPARATORS } from './index.ts';
import { maxTokens } from './max-tokens.ts';
import { modelIdentity } from './model-identity.ts';
import { promptDiffersFromGolden } from './prompt-tokens.ts';

export interface EvaluateInput {
  testCase: Case;
  sample: Sample;
  reference?: Sample;
  sameBackendAsReference: boolean;
  tolerance: Tolerance;
  siblings?: ReadonlyMap<string, Sample>;
  backendClass?: string;
  /** What the backend said about itself: the model check and the prompt check read it. */
  identity?: BackendIdentity;
  /** How golden was recorded; the model check compares its model with the backend's. */
  goldenProvenance?: GoldenProvenance;
  /** Why golden has no sample of this case: the reference could not serve it (provenance.unsupported). */
  referenceUnsupported?: string;
}

/**
 * Checks every request sample gets without a suite asking: protocol truths that hold on any backend (the
 * prompt as sent, no more tokens than max_tokens, the text the tokens spell) and, against golden, the model
 * and the reasoning split. They come first, since they explain what the case's own checks see; a case that
 * names one of them itself (to give it options) gets it once, where the case put it.
 */
export function implicitChecks(testCase: Case, sample: Sample, reference: Sample | undefined, goldenProvenance: GoldenProvenance | undefined): CheckSpec[] {
  if (testCase.endpoint !== 'chat' && testCase.endpoint !== 'completion') return [];
  const comparesWithGolden = reference !== undefined && testCase.checks.some((c) => COMPARATORS.get(c.kind)?.needsReference);
  const reasoned = (sample.reasoning ?? '') !== '' || (reference?.reasoning ?? '') !== '';
  const kinds = [
    comparesWithGolden && goldenProvenance ? 'model' : undefined,
    'prompt-tokens',
    testCase.params.max_tokens !== undefined ? 'max-tokens' : undefined,
    sample.tokens.length > 0 ? 'text-matches-tokens' : undefined,
    comparesWithGolden && reasoned ? 'reasoning-split' : undefined,
  ];
  const named = new Set(testCase.checks.map((c) => c.kind));
  return kinds.filter((k): k is string => k !== undefined && !named.has(k)).map((kind) => ({ kind }));
}

/** The one verdict of a sample that is not `ok` (SHARED-TYPES.md rule 5), plus max-tokens where a capped body already shows the limit broken. */
function notOkVerdicts(input: EvaluateInput): Verdict[] {
  const { sample, testCase } = input;
  const { status, why } = notOkStatus(sample);
  const verdicts: Verdict[] = [{ check: 'sample', status, measured: sample.kind, message: `${sample.kind}: ${sample.error?.message ?? 'no details'}; ${why}` }];
  // Cut at the cap, a body cannot be judged, except that what arrived may already hold more tokens than allowed.
  if (sample.kind === 'protocol-error' && sample.error?.code === 'body-too-large' && testCase.params.max_tokens !== undefined) {
    const over = maxTokens.compare({ ...input, spec: { kind: 'max-tokens' } });
    if (over.status === 'fail') verdicts.push(over);
  }
  return verdicts;
}

/** Why a golden-relative check cannot compare here, as the skip or error it becomes; undefined when it can. */
function goldenUnusable(input: EvaluateInput, kind: string, needsSamePrompt: boolean, modelMismatch: boolean): Verdict | undefined {
  const { testCase, reference, referenceUnsupported } = input;
  if (!reference) {
    if (referenceUnsupported !== undefined)
      return { check: kind, status: 'skip', message: `golden has no sample of "${testCase.id}": the reference (${input.goldenProvenance?.backend ?? 'golden backend'}) could not serve it: ${referenceUnsupported}` };
    // Not an error: the checks that need no golden still decide the case (a missing golden must not hide a real failure).
    return { check: kind, status: 'skip', message: `no golden sample for case "${testCase.id}": not compared with golden; record one with "conform record --backend <reference>"` };
  }
  if (modelMismatch) return { check: kind, status: 'skip', message: 'not compared with golden: golden was recorded with another model (see the model verdict)' };
  const differs = needsSamePrompt ? promptDiffersFromGolden(input.sample, reference) : undefined;
  if (differs)
    return { check: kind, status: 'skip', message: `not compared with golden: this backend read ${differs.got} prompt tokens, golden ${differs.golden}, so tokens would judge the prompt, not the backend (see prompt-tokens)` };
  return undefined;
}

/**
 * Runs the implicit checks and every check a case asks for. A sample that is not `ok` gets one verdict, an
 * error or a fail by what went wrong: there is nothing to compare.
 */
export function evaluateSample(input: EvaluateInput): Verdict[] {
  const { testCase, sample, reference, goldenProvenance } = input;
  if (sample.kind !== 'ok') return notOkVerdicts(input);
  // A literal per check, not { ...base, spec }: that spread leaves V8's fast path (src/core/extend.ts).
  const inputFor = (spec: CompareInput['spec']): CompareInput => ({
    sample,
    reference,
    sameBackendAsReference: input.sameBackendAsReference,
    tolerance: input.tolerance,
    testCase,
    siblings: input.siblings,
    backendClass: input.backendClass,
    identity: input.identity,
    goldenProvenance,
    spec,
  });
  const modelMismatch = reference !== undefined && goldenProvenance !== undefined && modelIdentity.compare(inputFor({ kind: 'model' })).status === 'fail';
  return [...implicitChecks(testCase, sample, reference, goldenProvenance), ...testCase.checks].map((spec): Verdict => {
    const comparator = COMPARATORS.get(spec.kind);
    if (!comparator) return { check: spec.kind, status: 'error', message: `unknown check kind "${spec.kind}"; known: ${[...COMPARATORS.keys()].join(', ')}` };
    if (comparator.needsReference) {
      const unusable = goldenUnusable(input, spec.kind, comparator.needsSamePrompt === true, modelMismatch);
      if (unusable) return unusable;
    }
    return comparator.compare(inputFor(spec));
  });
}
