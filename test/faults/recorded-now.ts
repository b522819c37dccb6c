// Golden samples as today's runner would return them: today's golden was recorded before seeded cases were
// repeated, so a seeded sample gets what run/repeat.ts adds to it (the same answer twice, and other seeds
// answering otherwise). The texts of the other seeds are stand-ins; they only need to differ.
import type { Case, Sample } from '../../src/core/types.ts';

export function asRecordedNow(sample: Sample, testCase: Case): Sample {
  if (!testCase.repeat || sample.variants) return sample;
  const ids = sample.tokens.length && sample.tokens.every((t) => t.id !== undefined) ? sample.tokens.map((t) => t.id!) : undefined;
  const out: Sample = { ...sample, variants: [{ text: sample.text, ...(ids && { tokenIds: ids }), count: testCase.repeat.count }] };
  if (testCase.params.seed !== undefined && testCase.checks.some((c) => c.kind === 'seed'))
    out.otherSeeds = [1, 2].map((offset) => ({ seed: testCase.params.seed! + offset, text: `another sample, seed ${testCase.params.seed! + offset}` }));
  return out;
}
