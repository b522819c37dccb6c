import { describe, expect, it } from 'vitest';
import { badgeStatuses, badgeStatusOf, type BadgeStatus } from '../../src/core/badge-status.ts';
import type { Counts } from '../../src/core/types.ts';
import { badgeContent, badgeMessage, lastPassingMarkdown, updateBadgeHistory, type BadgeHistory } from '../../src/reporters/badge-writer.ts';
import { backendRun, result, summary } from './run-summary-fixtures.ts';

const counts = (c: Partial<Counts>): Counts => ({ pass: 0, fail: 0, error: 0, skip: 0, ...c });

describe('badgeStatusOf', () => {
  it.each<[Partial<Counts>, BadgeStatus]>([
    [{}, 'unknown'],
    [{ skip: 4 }, 'unknown'],
    [{ error: 3 }, 'unknown'],
    [{ error: 2, skip: 2 }, 'unknown'],
    [{ pass: 1 }, 'passing'],
    [{ pass: 12, skip: 1 }, 'passing'],
    [{ fail: 1 }, 'failing'],
    [{ pass: 12, fail: 1 }, 'failing'],
    [{ pass: 12, error: 1 }, 'failing'],
    [{ fail: 1, error: 1, skip: 1 }, 'failing'],
  ])('%j → %s', (c, expected) => {
    expect(badgeStatusOf(counts(c))).toBe(expected);
  });
});

describe('badgeStatuses', () => {
  it('gives every backend of the run a status, configured backends not run are unknown, sorted by name', () => {
    const run = summary(
      [
        result({ backend: 'vulkan', caseId: 'a', status: 'pass' }),
        result({ backend: 'vulkan', caseId: 'b', status: 'fail' }),
        result({ backend: 'cpu', caseId: 'a', status: 'pass' }),
        result({ backend: 'cpu', caseId: 'b', status: 'skip' }),
      ],
      { backends: [backendRun('vulkan'), backendRun('cpu'), backendRun('rocm', { state: 'skipped', reason: 'no GPU' })] },
    );
    expect(badgeStatuses(run, ['cpu', 'metal']).map((s) => [s.backend, s.status])).toEqual([
      ['cpu', 'passing'],
      ['metal', 'unknown'],
      ['rocm', 'unknown'],
      ['vulkan', 'failing'],
    ]);
    expect(badgeStatuses(run).find((s) => s.backend === 'cpu')!.counts).toEqual(counts({ pass: 1, skip: 1 }));
  });
});

describe('badge content', () => {
  it('says passing with the release, failing or unknown, in green, red or grey', () => {
    expect(badgeContent('cpu', 'passing', 'v1.2.3', 'conform')).toEqual({ label: 'conform cpu', message: 'passing v1.2.3', color: 'green' });
    expect(badgeContent('cpu', 'failing', 'v1.2.3', 'conform')).toEqual({ label: 'conform cpu', message: 'failing', color: 'red' });
    expect(badgeContent('cpu', 'unknown', 'v1.2.3', '')).toEqual({ label: 'cpu', message: 'unknown', color: 'lightgrey' });
    expect(badgeMessage('passing', 'unknown')).toBe('passing');
  });
});

describe('updateBadgeHistory', () => {
  const day = (d: number) => `2026-01-${String(d).padStart(2, '0')}T00:00:00.000Z`;
  const add = (h: BadgeHistory | undefined, status: BadgeStatus, release: string, d: number, limit?: number) =>
    updateBadgeHistory(h, [{ backend: 'cpu', status, counts: counts({}) }], { release, date: day(d), runId: `run-${d}` }, limit);

  it('keeps the last passing release through later failures', () => {
    let h = add(undefined, 'passing', 'v1.0.0', 1);
    h = add(h, 'failing', 'v1.1.0', 2);
    h = add(h, 'unknown', 'v1.2.0', 3);
    expect(h.backends.cpu!.lastPassing).toEqual({ release: 'v1.0.0', date: day(1), runId: 'run-1' });
    expect(h.backends.cpu!.recent.map((e) => `${e.release} ${e.status}`)).toEqual(['v1.2.0 unknown', 'v1.1.0 failing', 'v1.0.0 passing']);
    h = add(h, 'passing', 'v1.3.0', 4);
    expect(h.backends.cpu!.lastPassing!.release).toBe('v1.3.0');
  });

  it('is bounded, newest first', () => {
    let h: BadgeHistory | undefined;
    for (let d = 1; d <= 9; d++) h = add(h, d % 2 ? 'passing' : 'failing', `v0.${d}.0`, d, 5);
    expect(h!.backends.cpu!.recent.map((e) => e.release)).toEqual(['v0.9.0', 'v0.8.0', 'v0.7.0', 'v0.6.0', 'v0.5.0']);
  });

  it('badging the same run again replaces its entry', () => {
    const once = add(undefined, 'passing', 'v1.0.0', 1);
    expect(add(once, 'passing', 'v1.0.0', 1)).toEqual(once);
  });

  it('a passing run older than the last passing one does not move it back', () => {
    const h = add(add(undefined, 'passing', 'v2.0.0', 5), 'passing', 'v1.0.0', 1);
    expect(h.backends.cpu!.lastPassing!.release).toBe('v2.0.0');
    expect(h.backends.cpu!.recent.map((e) => e.release)).toEqual(['v2.0.0', 'v1.0.0']);
  });

  it('an untagged run (release unknown) is listed but never becomes the last passing release', () => {
    let h = add(undefined, 'passing', 'unknown', 1);
    expect(h.backends.cpu!.lastPassing).toBeNull();
    expect(lastPassingMarkdown(h)).toContain('| cpu | ![cpu](cpu.svg) | no tagged release yet | — | passing (untagged, 2026-01-01) |');
    h = add(h, 'passing', 'v1.0.0', 2);
    h = add(h, 'passing', 'unknown', 3);
    expect(h.backends.cpu!.lastPassing).toEqual({ release: 'v1.0.0', date: day(2), runId: 'run-2' });
    expect(lastPassingMarkdown(h)).not.toMatch(/\| unknown \|/);
  });

  it('keeps backends this run did not badge', () => {
    const h = updateBadgeHistory(add(undefined, 'passing', 'v1', 1), [{ backend: 'vulkan', status: 'failing', counts: counts({}) }], { release: 'v2', date: day(2), runId: 'r2' });
    expect(Object.keys(h.backends)).toEqual(['cpu', 'vulkan']);
  });
});

describe('lastPassingMarkdown', () => {
  it('tabulates the last passing release per backend and escapes what a release string may hold', () => {
    const h = updateBadgeHistory(
      undefined,
      [
        { backend: 'cpu', status: 'passing', counts: counts({}) },
        { backend: 'vulkan', status: 'failing', counts: counts({}) },
      ],
      { release: 'v1|<b>&', date: '2026-02-03T04:05:06.000Z', runId: 'r' },
    );
    const md = lastPassingMarkdown(h);
    expect(md).toContain('| cpu | ![cpu](cpu.svg) | v1\\|&lt;b&gt;&amp; | 2026-02-03 | passing (v1\\|&lt;b&gt;&amp;, 2026-02-03) |');
    expect(md).toContain('| vulkan | ![vulkan](vulkan.svg) | never | — | failing (v1\\|&lt;b&gt;&amp;, 2026-02-03) |');
    for (const line of md.split('\n').filter((l) => l.startsWith('| '))) expect(line.split(/(?<!\\)\|/).length).toBe(7);
  });
});
