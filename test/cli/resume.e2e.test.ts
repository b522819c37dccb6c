import { appendFileSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSeededRandom } from '../../src/core/seeded-random.ts';
import type { CaseResult, RunSummary } from '../../src/core/types.ts';
import { conform, makeProject, REPO } from '../helpers/conform-cli.ts';
import { readRunSummary } from '../../src/record/run-folder.ts';

// The built-in cpu engine (conform serve, about 3 ms a token) on three suites: 26 cases, matches-case
// checks among them, whose earlier sibling may have run before the kill.
const SELECTION = ['--backend', 'cpu', '--suite', 'smoke', '--suite', 'determinism', '--suite', 'function-calling'];
const CASES = 26;
const BIN = join(REPO, 'bin', 'conform.js');

const summaryIn = (dir: string) => readRunSummary(dir, '/').summary;
const resultLines = (dir: string) => {
  try {
    return readFileSync(join(dir, 'samples.jsonl'), 'utf8').split('\n').filter((l) => l.startsWith('{"type":"result"')).length;
  } catch {
    return -1;
  }
};

/** What must be equal between a clean run and a resumed one: everything but timings. */
function judged(r: CaseResult) {
  return { status: r.status, verdicts: r.verdicts.map((v) => `${v.check}:${v.status}`), kind: r.sample?.kind, text: r.sample?.text, tokens: r.sample?.tokens.map((t) => t.id ?? t.token) };
}

/** Starts `conform run` in its own process group and SIGKILLs the group (conform and its engine) once the journal holds `after` results. */
async function killAt(project: string, args: string[], after: number, runDir?: string): Promise<string> {
  const child = execa(process.execPath, [BIN, ...args], { cwd: project, env: { CONFORM_CACHE_DIR: join(REPO, '.cache', 'conform') }, detached: true, reject: false });
  let dir = runDir;
  for (let i = 0; i < 6_000; i++) {
    await new Promise((r) => setTimeout(r, 5));
    dir ??= existsSync(join(project, 'reports')) ? readdirSync(join(project, 'reports')).map((d) => join(project, 'reports', d))[0] : undefined;
    if (dir && resultLines(dir) >= after) break;
  }
  process.kill(-child.pid!, 'SIGKILL');
  const result = await child;
  expect(result.signal).toBe('SIGKILL');
  return dir!;
}

describe('conform run --resume after kill -9', () => {
  let project: string;
  let clean: RunSummary;
  let cleanDir: string;
  // Seeded, so a rerun kills at the same points: one early, one in the middle (killed twice), one late.
  const random = createSeededRandom(20260301).next;
  const points = [Math.floor(random() * 5), 5 + Math.floor(random() * 10), 15 + Math.floor(random() * 10)];

  beforeAll(async () => {
    project = makeProject(['suites', 'golden']);
    const run = await conform(['run', ...SELECTION], { cwd: project });
    expect(run.exitCode, run.stderr).toBe(0);
    cleanDir = /Results: (\S+)/.exec(run.stdout)![1]!;
    clean = summaryIn(cleanDir);
    expect(clean.results).toHaveLength(CASES);
  }, 300_000);

  it.each(points.map((p, i) => [p, i]))('killed after %i results, resumed, gives the clean run\'s record (kill point %i)', async (point, index) => {
    const here = makeProject(['suites', 'golden']);
    const runDir = await killAt(here, ['run', ...SELECTION], point);
    expect(existsSync(join(runDir, 'summary.json'))).toBe(false);
    const killedWith = resultLines(runDir);
    expect(killedWith).toBeGreaterThanOrEqual(point);

    if (index === 0) {
      // What a kill in the middle of writing a line leaves: half a line, no newline.
      const last = readFileSync(join(runDir, 'samples.jsonl'), 'utf8').trim().split('\n').at(-1)!;
      appendFileSync(join(runDir, 'samples.jsonl'), last.slice(0, Math.floor(last.length / 2)));
    }
    if (index === 0) {
      // A killed folder can be reported on (marked partial) but not gated.
      const report = await conform(['report', runDir], { cwd: here });
      expect(report.exitCode, report.stderr).toBe(0);
      expect(report.stderr).toMatch(/is partial: \d+ of 26 cases have a result/);
      expect(readFileSync(join(runDir, 'summary.md'), 'utf8')).toContain('Partial run');
      const gate = await conform(['gate', runDir, '--baseline', runDir], { cwd: here });
      expect(gate.exitCode).toBe(2);
      expect(gate.stderr).toContain('finish it with "conform run --resume');
    }

    if (index === 1) {
      // Killed again while resuming, a few results later.
      await killAt(here, ['run', '--resume', runDir], killedWith + 3, runDir);
    }
    const resumed = await conform(['run', '--resume', runDir], { cwd: here });
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    if (index === 0) expect(resumed.stderr).toMatch(/samples\.jsonl: left out its last line \([\d,]+ bytes\), cut short when the run was killed; that case runs again/);
    expect(resumed.stdout).toContain(`Results: ${runDir}`);

    const summary = summaryIn(runDir);
    expect(summary.runId).toBe(basename(runDir));
    expect(summary.partial).toBeUndefined();
    expect(summary.resumed?.length).toBe(index === 1 ? 2 : 1);
    expect(summary.results.map((r) => r.id)).toEqual(clean.results.map((r) => r.id));
    for (const [i, r] of summary.results.entries()) expect(judged(r), `${r.suite}/${r.caseId}`).toEqual(judged(clean.results[i]!));
    expect(summary.totals).toEqual(clean.totals);
    expect(summary.backends.map((b) => [b.name, b.state, b.identity.engineVersion])).toEqual(clean.backends.map((b) => [b.name, b.state, b.identity.engineVersion]));
    if (index === 2) {
      // Completed by resume, the folder is a run like any other for merge and gate.
      const merged = await conform(['merge', runDir, '--out', join(here, 'merged')], { cwd: here });
      expect(merged.exitCode, merged.stderr).toBe(0);
      expect(summaryIn(join(here, 'merged')).results).toHaveLength(CASES);
      expect(summaryIn(join(here, 'merged')).partial).toBeUndefined();
      // Latency is not what this checks (the two runs ran at different moments of a shared machine): too few samples to judge it.
      const { writeFileSync } = await import('node:fs');
      writeFileSync(join(here, 'policy.json'), '{ "minSamples": 1000000 }');
      const gate = await conform(['gate', runDir, '--baseline', join(cleanDir, 'summary.json'), '--policy', 'policy.json'], { cwd: here });
      expect(gate.exitCode, `${gate.stdout}\n${gate.stderr}`).toBe(0);
    }
  }, 300_000);

  it('refuses to resume when a suite or golden file changed since, saying what changed', async () => {
    const { writeFileSync } = await import('node:fs');
    const copy = makeProject(['suites', 'golden']);
    const runDir = await killAt(copy, ['run', ...SELECTION], 2);
    writeFileSync(join(copy, 'golden', 'smoke.json'), readFileSync(join(copy, 'golden', 'smoke.json'), 'utf8').replace('"recordedAt": "', '"recordedAt": "1'));
    writeFileSync(join(copy, 'suites', 'determinism.yaml'), readFileSync(join(copy, 'suites', 'determinism.yaml'), 'utf8').replace('description: >', 'description: >\n  Changed since the run started.'));
    const refused = await conform(['run', '--resume', runDir], { cwd: copy });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr.trim()).toMatch(/^conform run: cannot resume reports\/\S+: suite determinism changed; golden\/smoke\.json was re-recorded or removed since it started; resuming would mix two runs in one record, so start a new run$/);
    const flags = await conform(['run', '--resume', runDir, '--suite', 'smoke'], { cwd: copy });
    expect(flags.exitCode).toBe(2);
    expect(flags.stderr.trim()).toBe('conform run: --resume continues a run with the backends, suites and shard it was started with; drop --suite');
  }, 300_000);
});
