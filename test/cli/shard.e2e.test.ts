import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/core/types.ts';
import { result, summary } from '../core/run-summary-fixtures.ts';
import { conform, makeProject, REPO } from '../helpers/conform-cli.ts';
import { readRunSummary } from '../../src/record/run-folder.ts';

const runDirOf = (stdout: string): string => {
  const dir = /Results: (\S+)/.exec(stdout)?.[1];
  expect(dir, stdout).toBeDefined();
  return dir!;
};
const read = (dir: string) => readRunSummary(dir, '/').summary;

/** id → status and each verdict's check and status; timings and measured values masked. */
const verdictsOf = (summary: RunSummary) =>
  Object.fromEntries(
    [...summary.results]
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .map((r) => [r.id, { case: `${r.backend}/${r.suite}/${r.caseId}`, status: r.status, verdicts: r.verdicts.map((v) => `${v.check}:${v.status}`) }]),
  );

describe('conform run --shard, end to end: two shards merged equal the unsharded run', () => {
  let project: string;
  beforeAll(() => {
    project = makeProject(['suites', 'golden', 'conform.config.ts']);
    const config = readFileSync(join(project, 'conform.config.ts'), 'utf8').replace('./src/', `${REPO}/src/`);
    writeFileSync(join(project, 'conform.config.ts'), config);
  });

  it('runs the smoke suite on cpu as 1/2, 2/2 and whole; merge of the shards has the same verdicts', async () => {
    const args = ['run', '--backend', 'cpu', '--suite', 'smoke'];
    const shard1 = await conform([...args, '--shard', '1/2'], { cwd: project });
    const shard2 = await conform([...args, '--shard', '2/2'], { cwd: project });
    const whole = await conform(args, { cwd: project });
    for (const r of [shard1, shard2, whole]) expect([0, 1], `${r.stdout}\n${r.stderr}`).toContain(r.exitCode);

    const [s1, s2, all] = [shard1, shard2, whole].map((r) => read(runDirOf(r.stdout)));
    expect(s1!.results.length).toBeGreaterThan(0);
    expect(s2!.results.length).toBeGreaterThan(0);
    expect(s1!.results.length + s2!.results.length).toBe(all!.results.length);
    const ids1 = new Set(s1!.results.map((r) => r.id));
    expect(s2!.results.filter((r) => ids1.has(r.id))).toEqual([]);

    const merge = await conform(['merge', runDirOf(shard1.stdout), runDirOf(shard2.stdout), '--out', 'merged'], { cwd: project });
    expect(merge.exitCode, merge.stderr).toBe(0);
    const merged = read(join(project, 'merged'));
    expect(merged.runId).toMatch(/^merged-\d{8}T\d{6}Z-[0-9a-f]{6}$/);
    expect(verdictsOf(merged)).toEqual(verdictsOf(all!));
    expect(merged.totals).toEqual(all!.totals);
    expect(merged.matrix).toEqual(all!.matrix);
    expect(merged.backends.map((b) => [b.name, b.state])).toEqual([['cpu', 'ran']]);
    expect(merged.backends[0]!.identity).toEqual(all!.backends[0]!.identity);
    // The merged journal: a line naming the inputs, then every merged result with its sample, where summary.json points.
    const journal = readFileSync(join(project, 'merged', 'samples.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { type: string; id?: string; sample?: unknown });
    expect(journal[0]).toEqual({ type: 'merge', runs: expect.arrayContaining([s1!.runId, s2!.runId]) });
    expect(journal.filter((e) => e.type === 'result')).toHaveLength(merged.results.length);
    const stored = JSON.parse(readFileSync(join(project, 'merged', 'summary.json'), 'utf8')) as RunSummary;
    for (const r of stored.results) {
      expect(r.sample, r.id).toBeUndefined();
      expect(journal[r.sampleLine! - 1]!.id, r.id).toBe(r.id);
    }
    expect(merged.results.filter((r) => r.sample).length).toBe(all!.results.filter((r) => r.sample).length);

    // gate and badge take the merged folder like any run (latency left out: a few cases on a shared machine).
    writeFileSync(join(project, 'policy.json'), JSON.stringify({ minSamples: 1000 }));
    const gate = await conform(['gate', '--baseline', runDirOf(whole.stdout), 'merged', '--policy', 'policy.json'], { cwd: project });
    expect(gate.exitCode, gate.stdout).toBe(0);
    const badge = await conform(['badge', 'merged', '--release', 'v0.0.1', '--out', 'badges'], { cwd: project });
    expect(badge.exitCode, badge.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(project, 'badges', 'cpu.json'), 'utf8')).message).toBe(all!.totals.fail + all!.totals.error === 0 ? 'passing v0.0.1' : 'failing');
  }, 300_000);
});

describe('conform merge on constructed run folders', () => {
  const write = (project: string, runId: string, s: RunSummary) => {
    mkdirSync(join(project, 'reports', runId), { recursive: true });
    writeFileSync(join(project, 'reports', runId, 'summary.json'), JSON.stringify(s));
    writeFileSync(join(project, 'reports', runId, 'samples.jsonl'), `${JSON.stringify({ type: 'run', runId })}\n`);
  };

  it('writes reports/<merged run id>/ by default, which gate then picks as the newest run', async () => {
    const project = makeProject([]);
    write(project, 'a', summary([result({ caseId: 'one', status: 'pass' })], { runId: 'a', startedAt: '2026-01-01T00:00:00.000Z' }));
    write(project, 'b', summary([result({ backend: 'vulkan', caseId: 'one', status: 'pass' })], { runId: 'b', startedAt: '2026-01-01T00:00:05.000Z' }));
    const merge = await conform(['merge', 'reports/a', 'reports/b/summary.json'], { cwd: project });
    expect(merge.exitCode, merge.stderr).toBe(0);
    const dir = runDirOf(merge.stdout);
    expect(dir).toMatch(/reports\/merged-20260101T000000Z-[0-9a-f]{6}$/);
    const journal = readFileSync(join(dir, 'samples.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { type: string; backend?: string });
    expect(journal.map((e) => [e.type, e.backend])).toEqual([['merge', undefined], ['result', 'cpu'], ['result', 'vulkan']]);
    const again = await conform(['merge', 'reports/b', 'reports/a'], { cwd: project });
    expect(runDirOf(again.stdout)).toBe(dir);
    const gate = await conform(['gate', '--baseline', 'reports/a'], { cwd: project });
    expect(gate.exitCode, gate.stdout).toBe(0);
    expect(gate.stdout).toContain(`run ${basename(dir)} against baseline a`);
  });

  it('refuses overlapping runs whose shared result differs: exit 2, one line', async () => {
    const project = makeProject([]);
    write(project, 'a', summary([result({ caseId: 'one', status: 'pass' })], { runId: 'a' }));
    write(project, 'b', summary([result({ caseId: 'one', status: 'fail' })], { runId: 'b' }));
    const merge = await conform(['merge', 'reports/a', 'reports/b', '--out', 'out'], { cwd: project });
    expect(merge.exitCode).toBe(2);
    expect(merge.stderr.trim()).toMatch(/^conform merge: result [0-9a-f]{16} \(cpu\/smoke\/one\) is in run a and again, different, in run b; merge inputs must be disjoint shards or identical copies$/);
    expect(existsSync(join(project, 'out'))).toBe(false);
  });
});
