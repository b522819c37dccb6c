import { describe, expect, it } from 'vitest';
import type { CaseResult } from '../../src/core/types.ts';
import { MAX_TTFT_CASES, ttftChart } from '../../src/reporters/html/report-charts.ts';
import { sample } from '../assertions/samples.ts';

const colors = new Map([
  ['cpu', '#111111'],
  ['vulkan', '#222222'],
]);

function streamed(backend: string, caseId: string, ttft: number): CaseResult {
  return { id: `${backend}/s/${caseId}`, backend, suite: 's', caseId, status: 'pass', verdicts: [], sample: sample({ streamed: true, timings: { chunkMs: [], endMs: ttft + 5, firstTokenMs: ttft } }) };
}

// Bars are rects with a title "<backend> <suite>/<case>: TTFT …"; the axis has none.
const barCases = (chart: ReturnType<typeof ttftChart>) => [...new Set(chart.rects.map((r) => r.title?.split(' ')[1]?.replace(/:$/, '')))];

describe('TTFT chart', () => {
  it('draws every case of a small run, one bar per backend, with no note', () => {
    const results = ['a', 'b', 'c'].flatMap((id, i) => [streamed('cpu', id, 10 + i), streamed('vulkan', id, 20 + i)]);
    const chart = ttftChart(results, ['cpu', 'vulkan'], colors);
    expect(barCases(chart)).toEqual(['s/a', 's/b', 's/c']);
    expect(chart.rects).toHaveLength(6);
    expect(chart.note).toBe('');
  });

  it('past its limit, draws the slowest cases on any backend, in run order, and says how many it left out', () => {
    const n = MAX_TTFT_CASES * 50;
    // Every case is fast on cpu but one in 50 is slow on vulkan alone: those are the ones to show.
    const results: CaseResult[] = [];
    for (let i = 0; i < n; i++) results.push(streamed('cpu', `c${i}`, 1 + (i % 7) / 10), streamed('vulkan', `c${i}`, i % 50 === 3 ? 1000 + ((i * 7919) % 500) : 2));
    const chart = ttftChart(results, ['cpu', 'vulkan'], colors);
    const expected = Array.from({ length: MAX_TTFT_CASES }, (_, k) => `s/c${k * 50 + 3}`);
    expect(barCases(chart)).toEqual(expected);
    expect(chart.rects).toHaveLength(MAX_TTFT_CASES * 2);
    expect(chart.note).toContain(`The ${MAX_TTFT_CASES} of ${n.toLocaleString('en-US')} cases with the longest TTFT on any backend are shown, in run order`);
    // The chart's height follows what it draws, not the run's size.
    expect(chart.height).toBeLessThan(MAX_TTFT_CASES * 40);
  });

  it('lays out a run with more TTFTs than a call may take arguments', () => {
    // 130,000 cases on two backends: Math.max(...ttfts) throws "Maximum call stack size exceeded" at this size.
    const results: CaseResult[] = [];
    for (let i = 0; i < 130_000; i++) results.push(streamed('cpu', `c${i}`, 1 + (i % 100)), streamed('vulkan', `c${i}`, 2 + (i % 100)));
    const chart = ttftChart(results, ['cpu', 'vulkan'], colors);
    expect(chart.rects).toHaveLength(MAX_TTFT_CASES * 2);
    expect(chart.rects.every((r) => r.title?.includes('TTFT 10'))).toBe(true); // the slowest: 100 and 101 ms
  });
});
