import { describe, expect, it } from 'vitest';
import { createConsoleReporter } from '../../src/reporters/console-reporter.ts';
import { fixtureSummary } from './fixture-summary.ts';

describe('the console summary', () => {
  it('names every failing check of a failed case, not only the first', () => {
    const summary = fixtureSummary();
    const failed = summary.results.find((r) => r.status === 'fail')!;
    // Two checks failing together, as llama-server shows when it drops the tools and so calls none.
    failed.verdicts.push({ check: 'prompt-tokens', status: 'fail', message: 'tools left out of the prompt' }, { check: 'tool-call', status: 'fail', message: 'no tool call in the answer' });
    const lines: string[] = [];
    createConsoleReporter({ write: (l) => lines.push(l), progress: false }).onRunEnd!(summary, '/tmp/run');
    const id = `${failed.backend}/${failed.suite}/${failed.caseId}`;
    const mine = lines.filter((l) => l.startsWith(`  FAIL ${id} [`));
    expect(mine).toHaveLength(failed.verdicts.filter((v) => v.status === 'fail').length);
    expect(mine).toContain(`  FAIL ${id} [prompt-tokens]: tools left out of the prompt`);
    expect(mine).toContain(`  FAIL ${id} [tool-call]: no tool call in the answer`);
  });
});
