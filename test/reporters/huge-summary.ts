// A run record holding one sample far larger than any body cap: control characters (six characters each
// once JSON-escaped) and angle brackets (four once XML- or HTML-escaped), enough of both that escaping the
// text whole passes V8's longest string (about 512 Mi characters) in every format.
import { buildSummary } from '../../src/core/summary.ts';
import type { CaseResult, RunSummary } from '../../src/core/types.ts';
import { fixtureSummary } from './fixture-summary.ts';

export const HUGE_CONTROL = 90_000_000;
export const HUGE_ANGLES = 135_000_000;

export const hugeText = () => '\u0001'.repeat(HUGE_CONTROL) + '<'.repeat(HUGE_ANGLES);

/** The fixture run plus one failed case whose sample text is `text`, with a 1 MB token and a 5 MB message cut from `source`. */
export function hugeSummary(text = hugeText(), source = text): RunSummary {
  const base = fixtureSummary();
  const template = base.results.find((r) => r.sample && r.status === 'fail')!;
  const huge: CaseResult = {
    ...template,
    id: 'ffffffffffffffff',
    caseId: 'huge-body',
    status: 'fail',
    sample: { ...template.sample!, text, tokens: [{ token: source.slice(0, 1_000_000), logprob: -0.5, top: [] }] },
    verdicts: [{ check: 'exact', status: 'fail', measured: 1, threshold: 0, message: `text differs: ${source.slice(0, 5_000_000)}` }],
  };
  return buildSummary({ ...base, results: [...base.results, huge] });
}
