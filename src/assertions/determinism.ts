import type { Comparator } from './comparator.ts';

/** The same greedy request must give one output, however often and however concurrently it is sent (llama.cpp #7052 gave 5 to 8). */
export const determinism: Comparator = {
  kind: 'determinism',
  needsReference: false,
  compare({ sample, testCase }) {
    const variants = sample.variants;
    if (!variants || !testCase.repeat)
      return { check: 'determinism', status: 'error', message: `case ${testCase.id} has no repeat: give it repeat: { count: 8, mode: concurrent }` };
    const total = variants.reduce((n, v) => n + v.count, 0);
    if (variants.length === 1)
      return { check: 'determinism', status: 'pass', measured: 1, threshold: 1, message: `${total} ${testCase.repeat.mode} requests, 1 distinct output` };
    const counts = variants.map((v) => v.count).join(' + ');
    return {
      check: 'determinism',
      status: 'fail',
      measured: variants.length,
      threshold: 1,
      message: `${total} ${testCase.repeat.mode} identical greedy requests gave ${variants.length} distinct outputs (${counts}); first difference: ${JSON.stringify(variants[1]!.text.slice(0, 40))}`,
      details: { variants },
    };
  },
};
