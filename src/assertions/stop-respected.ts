import type { Comparator } from './comparator.ts';

const CHECK = 'stop-respected';

/** A server that honours `stop` never returns the stop string: it ends the answer before it. Needs no reference. */
export const stopRespected: Comparator = {
  kind: CHECK,
  needsReference: false,
  compare({ sample, testCase }) {
    const stops = testCase.params.stop ?? [];
    if (stops.length === 0) return { check: CHECK, status: 'error', message: `case ${testCase.id} sets no params.stop; stop-respected needs one` };
    for (const stop of stops) {
      const at = sample.text.indexOf(stop);
      if (at >= 0)
        return { check: CHECK, status: 'fail', measured: at, threshold: 'absent', message: `stop string ${JSON.stringify(stop)} appears in the output at offset ${at} (finish_reason ${sample.finishReason}): stop was ignored` };
    }
    return { check: CHECK, status: 'pass', measured: 'absent', threshold: 'absent', message: `none of ${stops.length} stop string(s) in the output` };
  },
};
