import type { Verdict } from '../core/types.ts';
import type { Comparator } from './comparator.ts';

const CHECK = 'seed';

type Output = { text: string; tokenIds?: number[]; toolCalls?: string };

/** Two outputs are the same sample when their token ids (where both have them), text and tool calls agree. */
function sameOutput(a: Output, b: Output): boolean {
  const ids = a.tokenIds && b.tokenIds ? JSON.stringify(a.tokenIds) === JSON.stringify(b.tokenIds) : true;
  return ids && a.text === b.text && (a.toolCalls ?? '') === (b.toolCalls ?? '');
}

const preview = (text: string) => JSON.stringify(text.slice(0, 40));

/**
 * `seed` honoured, on every backend: the same seeded request repeats exactly, and another seed changes the
 * sample. Across engines the same seed need not give the same text, so golden is not needed. The case needs
 * `repeat` (the same request again) and the runner then also sends it with other seeds (run/repeat.ts).
 */
export const seed: Comparator = {
  kind: CHECK,
  needsReference: false,
  compare({ sample, testCase }): Verdict {
    const value = testCase.params.seed;
    const temperature = testCase.params.temperature ?? 1;
    if (value === undefined) return { check: CHECK, status: 'error', message: `case ${testCase.id} sets no params.seed; the seed check needs one` };
    if (!(temperature > 0)) return { check: CHECK, status: 'error', message: `case ${testCase.id} samples greedily (temperature ${temperature}); a seed changes nothing there, give it temperature > 0` };
    if (!testCase.repeat || testCase.repeat.count < 2)
      return { check: CHECK, status: 'error', message: `case ${testCase.id} has no repeat: give it repeat: { count: 2, mode: serial }, so the same seed is sent twice` };
    const variants = sample.variants;
    // A sample recorded before the runner repeated seeded cases (an old golden, say) has nothing to judge.
    if (!variants) return { check: CHECK, status: 'skip', message: `not judged: the sample of ${testCase.id} has no repeats (recorded by a conform that did not repeat seeded cases)` };
    const total = variants.reduce((n, v) => n + v.count, 0);
    if (variants.length > 1)
      return {
        check: CHECK,
        status: 'fail',
        measured: variants.length,
        threshold: 1,
        message: `seed ${value} sent ${total} times gave ${variants.length} different samples (${preview(variants[0]!.text)} then ${preview(variants[1]!.text)}): the server does not honour seed`,
        details: { variants },
      };
    const others = sample.otherSeeds ?? [];
    if (others.length === 0) return { check: CHECK, status: 'skip', message: `not judged: no samples with other seeds were recorded for ${testCase.id} (recorded by a conform that did not send them)` };
    const first = variants[0]!;
    const changed = others.filter((o) => !sameOutput(o, first));
    const seeds = others.map((o) => o.seed).join(', ');
    if (changed.length === 0)
      return {
        check: CHECK,
        status: 'fail',
        measured: 0,
        threshold: `≥ 1 of ${others.length} other seeds`,
        message: `seeds ${seeds} gave the same sample as seed ${value} (${preview(first.text)}) at temperature ${temperature}: the server ignores seed, or does not sample`,
        details: { otherSeeds: others },
      };
    return {
      check: CHECK,
      status: 'pass',
      measured: changed.length,
      threshold: `≥ 1 of ${others.length} other seeds`,
      message: `seed ${value} repeated over ${total} requests; ${changed.length} of ${others.length} other seeds (${seeds}) changed the sample`,
    };
  },
};
