import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/core/types.ts';
import { describeDeviation, deviationsByBackend } from '../../src/reporters/deviations.ts';
import { renderJunit } from '../../src/reporters/junit-reporter.ts';
import { renderMarkdown } from '../../src/reporters/markdown-reporter.ts';
import { createConsoleReporter } from '../../src/reporters/console-reporter.ts';
import { fixtureSummary } from './fixture-summary.ts';

/** The fixture run, with deviations on some of vulkan's samples (two kinds, one of them twice) and one on cpu. */
function withDeviations(): RunSummary {
  const summary = fixtureSummary();
  const vulkan = summary.results.filter((r) => r.backend === 'vulkan' && r.sample);
  vulkan[0]!.sample!.deviations = ['tool-call-id-empty', 'top-logprobs-capped:20->10'];
  vulkan[1]!.sample!.deviations = ['tool-call-id-empty'];
  summary.results.find((r) => r.backend === 'cpu' && r.sample)!.sample!.deviations = ['completion-logprobs-chat-shape'];
  return summary;
}

describe('protocol deviations in the reports', () => {
  const summary = withDeviations();
  const vulkan = summary.results.filter((r) => r.backend === 'vulkan' && r.sample);
  const first = `${vulkan[0]!.suite}/${vulkan[0]!.caseId}`;
  const second = `${vulkan[1]!.suite}/${vulkan[1]!.caseId}`;

  it('counts each kind once per sample, per backend, most frequent first', () => {
    expect(deviationsByBackend(summary)).toEqual([
      { backend: 'cpu', kinds: [{ kind: 'completion-logprobs-chat-shape', count: 1, cases: [expect.any(String)] }] },
      { backend: 'vulkan', kinds: [{ kind: 'tool-call-id-empty', count: 2, cases: [first, second] }, { kind: 'top-logprobs-capped', count: 1, cases: [first] }] },
    ]);
    expect(describeDeviation({ kind: 'k', count: 5, cases: ['a', 'b', 'c', 'd', 'e'] })).toBe('k ×5 (a, b, c and 2 more)');
  });

  it('prints them in the console summary', () => {
    const lines: string[] = [];
    createConsoleReporter({ write: (l) => lines.push(l), progress: false }).onRunEnd!(summary, '/tmp/run');
    const at = lines.indexOf('Protocol deviations (answered, but not as the OpenAI API says):');
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 2]).toBe(`  vulkan: tool-call-id-empty ×2 (${first}, ${second}); top-logprobs-capped ×1 (${first})`);
  });

  it('gives them a table in summary.md', () => {
    const md = renderMarkdown(summary);
    expect(md).toContain('### Protocol deviations');
    expect(md).toContain(`| **vulkan** | tool-call-id-empty | 2 | ${first.replace(/_/g, '\\_')}, ${second.replace(/_/g, '\\_')} |`);
  });

  it('puts each sample’s deviations in its testcase’s system-out in junit.xml', () => {
    const xml = renderJunit(summary);
    expect(xml).toContain('<system-out>protocol deviations: tool-call-id-empty, top-logprobs-capped:20-&gt;10');
    expect(xml.match(/protocol deviations: /g)).toHaveLength(3);
  });

  it('prints nothing when no sample deviated', () => {
    const lines: string[] = [];
    createConsoleReporter({ write: (l) => lines.push(l), progress: false }).onRunEnd!(fixtureSummary(), '/tmp/run');
    expect(lines.some((l) => l.startsWith('Protocol deviations'))).toBe(false);
    expect(renderMarkdown(fixtureSummary())).not.toContain('Protocol deviations');
  });
});
