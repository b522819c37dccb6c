import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { CaseResult, RunSummary } from '../../src/core/types.ts';
import { passingCases, result, summary } from '../core/run-summary-fixtures.ts';
import { createJournal } from '../../src/record/journal.ts';
import { createJsonReporter } from '../../src/reporters/json-reporter.ts';
import { conform, makeProject } from '../helpers/conform-cli.ts';

// Summaries built by hand and written where `conform run` would put them; no backend is started.
const FAST = [100, 104, 98, 101, 97, 103, 99, 102, 100, 96];
const base = (): CaseResult[] => [...passingCases(10, FAST, 'cpu'), ...passingCases(10, FAST, 'vulkan')];
const regressed = (): CaseResult[] => base().map((r) => (r.backend === 'cpu' && r.caseId === 'case-3' ? result({ caseId: 'case-3', status: 'fail', message: 'differs from golden at token 2' }) : r));

// No git identity anywhere, so --by falls back to $USER.
const ENV = { GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', USER: 'ci-bot' };

function writeRun(project: string, runId: string, results: CaseResult[], mtimeSeconds?: number): string {
  const dir = join(project, 'reports', runId);
  mkdirSync(dir, { recursive: true });
  const s: RunSummary = summary(results, { runId });
  writeFileSync(join(dir, 'summary.json'), `${JSON.stringify(s, null, 2)}\n`);
  if (mtimeSeconds !== undefined) utimesSync(join(dir, 'summary.json'), mtimeSeconds, mtimeSeconds);
  return dir;
}

/** A run folder as conform run writes it: samples in samples.jsonl, summary.json pointing at their lines. */
function writeJournaledRun(project: string, runId: string, results: CaseResult[]): string {
  const dir = join(project, 'reports', runId);
  const journal = createJournal(dir);
  const s = summary(results, { runId });
  const ran = { ...s, results: s.results.map((r) => ({ ...r, sampleLine: journal.append({ type: 'result', ...r }) })) };
  journal.close();
  createJsonReporter().onRunEnd!(ran, dir);
  return dir;
}

describe('conform gate', () => {
  let project: string;
  beforeEach(() => {
    project = makeProject([]);
    writeRun(project, '20260101T000000Z-base00', base(), 1_700_000_000);
  });

  it('exits 0 on a clean rerun', async () => {
    writeRun(project, '20260102T000000Z-clean0', base());
    const r = await conform(['gate', '--baseline', 'reports/20260101T000000Z-base00/summary.json', 'reports/20260102T000000Z-clean0'], { cwd: project, env: ENV });
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/^conform gate: run 20260102T000000Z-clean0 against baseline 20260101T000000Z-base00/);
    expect(r.stdout).toMatch(/cpu end-to-end: p90 .* over 10 vs 10 samples: ok/);
    expect(r.stdout).toMatch(/Gate passed: no regression against the baseline\.$/m);
    expect(r.stderr).toBe('');
  });

  it('exits 1 on an injected regression and lists it', async () => {
    writeRun(project, '20260102T000000Z-regr00', regressed());
    const r = await conform(['gate', '--baseline', 'reports/20260101T000000Z-base00', 'reports/20260102T000000Z-regr00'], { cwd: project, env: ENV });
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(1);
    expect(r.stdout).toMatch(/^ {2}FAIL {2}regression +cpu\/smoke\/case-3: passed in the baseline, fails now \(exact: differs from golden at token 2\)$/m);
    expect(r.stdout).toMatch(/Gate FAILED: 1 regression against the baseline\.$/m);
  });

  it('exits 1 on a missing backend and on a latency regression', async () => {
    writeRun(project, '20260102T000000Z-short0', base().filter((r) => r.backend === 'cpu'));
    const short = await conform(['gate', '--baseline', 'reports/20260101T000000Z-base00', 'reports/20260102T000000Z-short0'], { cwd: project, env: ENV });
    expect(short.exitCode).toBe(1);
    expect(short.stdout).toMatch(/FAIL {2}backend-missing +vulkan: in the baseline but missing from the current run \(10 baseline cases not run\)/);

    writeRun(project, '20260102T000000Z-slow00', [...passingCases(10, FAST.map((ms) => ms * 3), 'cpu'), ...passingCases(10, FAST, 'vulkan')]);
    const slow = await conform(['gate', '--baseline', 'reports/20260101T000000Z-base00', 'reports/20260102T000000Z-slow00'], { cwd: project, env: ENV });
    expect(slow.exitCode).toBe(1);
    expect(slow.stdout).toMatch(/FAIL {2}latency-regression +cpu: end-to-end latency 3\.00x the baseline on the median case/);
  });

  it('exits 0 when a caveat in the policy file covers the failure, and says so', async () => {
    writeRun(project, '20260102T000000Z-regr00', regressed());
    writeFileSync(join(project, 'policy.yaml'), 'alpha: 0.01\ncaveats:\n  - { backend: cpu, case: case-3, reason: "tokenizer bug #7", expires: "2999-01-01" }\n');
    const r = await conform(['gate', '--baseline', 'reports/20260101T000000Z-base00', 'reports/20260102T000000Z-regr00', '--policy', 'policy.yaml'], { cwd: project, env: ENV });
    expect(r.exitCode, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/info {2}expected-failure +cpu\/smoke\/case-3: .* — expected: caveat "tokenizer bug #7" until 2999-01-01/);
    expect(r.stdout).toMatch(/Gate passed: .*\(1 expected failure under caveats\)\./);
  });

  it('reports an expired caveat and fails again', async () => {
    writeRun(project, '20260102T000000Z-regr00', regressed());
    writeFileSync(join(project, 'policy.json'), JSON.stringify({ caveats: [{ backend: 'cpu', case: 'case-3', reason: 'old bug', expires: '2020-01-01' }] }));
    const r = await conform(['gate', '--baseline', 'reports/20260101T000000Z-base00', 'reports/20260102T000000Z-regr00', '--policy', 'policy.json'], { cwd: project, env: ENV });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/info {2}caveat-expired +caveat for cpu\/\*\/case-3 expired 2020-01-01 \("old bug"\); it no longer applies/);
  });

  it('gates the newest run under reports/ when none is named', async () => {
    writeRun(project, '20260102T000000Z-regr00', regressed(), 1_700_000_100);
    writeRun(project, '20260103T000000Z-clean0', base(), 1_700_000_200);
    const r = await conform(['gate', '--baseline', 'reports/20260101T000000Z-base00'], { cwd: project, env: ENV });
    expect(r.exitCode, r.stdout).toBe(0);
    expect(r.stdout).toContain('run 20260103T000000Z-clean0 against');
  });

  it('--approve promotes a run to baselines/baseline.json, recording who, when and why; the gate then uses it', async () => {
    const approve = await conform(['gate', '--approve', 'reports/20260101T000000Z-base00', '--reason', 'v1.0 release', '--by', 'alice'], { cwd: project, env: ENV });
    expect(approve.exitCode, approve.stderr).toBe(0);
    const file = join(project, 'baselines', 'baseline.json');
    const baseline = JSON.parse(readFileSync(file, 'utf8')) as RunSummary & { approval: Record<string, string> };
    expect(baseline.runId).toBe('20260101T000000Z-base00');
    expect(baseline.results).toHaveLength(20);
    expect(baseline.approval).toEqual({ by: 'alice', at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), reason: 'v1.0 release', runId: '20260101T000000Z-base00' });

    writeRun(project, '20260102T000000Z-clean0', base(), 1_700_000_100);
    const clean = await conform(['gate'], { cwd: project, env: ENV });
    expect(clean.exitCode, clean.stderr).toBe(0);
    expect(clean.stdout).toMatch(/against baseline 20260101T000000Z-base00 \(baselines\/baseline\.json, approved by alice on \d{4}-\d\d-\d\d: "v1\.0 release"\)/);

    writeRun(project, '20260103T000000Z-regr00', regressed(), 1_700_000_200);
    const bad = await conform(['gate'], { cwd: project, env: ENV });
    expect(bad.exitCode).toBe(1);
  });

  it('reads samples from a run folder\'s journal, carries them into an approved baseline, and says when a copied summary.json has none', async () => {
    writeJournaledRun(project, '20260102T000000Z-jrnl00', base());
    writeJournaledRun(project, '20260103T000000Z-slow00', [...passingCases(10, FAST.map((ms) => ms * 3), 'cpu'), ...passingCases(10, FAST, 'vulkan')]);
    const slow = await conform(['gate', '--baseline', 'reports/20260102T000000Z-jrnl00', 'reports/20260103T000000Z-slow00'], { cwd: project, env: ENV });
    expect(slow.exitCode, slow.stdout).toBe(1);
    expect(slow.stdout).toMatch(/FAIL {2}latency-regression +cpu: end-to-end latency 3\.00x the baseline on the median case/);
    expect(slow.stdout).not.toContain('note:');

    const approve = await conform(['gate', '--approve', 'reports/20260102T000000Z-jrnl00', '--reason', 'journaled', '--by', 'alice'], { cwd: project, env: ENV });
    expect(approve.exitCode, approve.stderr).toBe(0);
    const baseline = JSON.parse(readFileSync(join(project, 'baselines', 'baseline.json'), 'utf8')) as RunSummary;
    expect(baseline.results.every((r) => r.sample?.kind === 'ok')).toBe(true);
    const fromBaseline = await conform(['gate', 'reports/20260103T000000Z-slow00'], { cwd: project, env: ENV });
    expect(fromBaseline.stdout).toMatch(/FAIL {2}latency-regression +cpu/);

    mkdirSync(join(project, 'copied'));
    writeFileSync(join(project, 'copied', 'summary.json'), readFileSync(join(project, 'reports', '20260102T000000Z-jrnl00', 'summary.json')));
    const copied = await conform(['gate', '--baseline', 'copied/summary.json', 'reports/20260103T000000Z-slow00'], { cwd: project, env: ENV });
    expect(copied.stdout).toContain('note: copied/summary.json: 20 result(s) keep their samples in samples.jsonl, which is not beside it, so their latency is not compared');
    expect(copied.stdout).not.toMatch(/latency-regression +cpu/);
  });

  it('--approve takes --by from $USER when git has no user name, and writes --baseline-out', async () => {
    const r = await conform(['gate', '--approve', '--reason', 'nightly', '--baseline-out', 'custom/base.json'], { cwd: project, env: ENV });
    expect(r.exitCode, r.stderr).toBe(0);
    const baseline = JSON.parse(readFileSync(join(project, 'custom', 'base.json'), 'utf8')) as { approval: { by: string; runId: string } };
    expect(baseline.approval.by).toBe('ci-bot');
    expect(baseline.approval.runId).toBe('20260101T000000Z-base00');
  });

  it.each<[string, string[], RegExp]>([
    ['--approve without --reason', ['--approve'], /--approve needs --reason/],
    ['no baseline anywhere', [], /no baseline at baselines\/baseline\.json/],
    ['a baseline that does not exist', ['--baseline', 'nope.json'], /nope\.json: no such run folder/],
    ['a broken policy', ['--baseline', 'reports/20260101T000000Z-base00', '--policy', 'bad.yaml'], /bad\.yaml: alpha 2 must be a number between 0 and 1/],
    ['an unknown flag', ['--basline', 'x'], /Unknown option '--basline'/],
    ['a summary of another schema', ['--baseline', 'future.json'], /future\.json: schemaVersion 2, expected 1/],
    ['two run folders', ['--baseline', 'reports/20260101T000000Z-base00', 'a', 'b'], /one run folder at most/],
  ])('exits 2 with one line on %s', async (_, args, message) => {
    writeFileSync(join(project, 'bad.yaml'), 'alpha: 2\n');
    writeFileSync(join(project, 'future.json'), JSON.stringify({ schemaVersion: 2 }));
    const r = await conform(['gate', ...args], { cwd: project, env: ENV });
    expect(r.exitCode, r.stdout).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(message)]);
    expect(existsSync(join(project, 'baselines'))).toBe(false);
  });
});
