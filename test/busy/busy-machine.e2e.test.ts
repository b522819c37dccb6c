// The built-in suites with timed checks, run twice on the built-in cpu, cpu-q8 and vulkan backends: once on the machine
// as it is, once beside a CPU hog (one spinning thread per core for the whole run). Every verdict, per stable
// case id and check, must be the same both times, and all must pass: conform's verdicts may not depend on how
// busy the machine is. Only verdicts are compared, never durations.
//
// Suites: cold-warm (start budgets, where a loaded machine failed a 120 s Vulkan cold start at 190.9 s) and
// long-context (TTFT limits per class, and prefill waits that grow with the prompt, where ctx-4k on vulkan and
// ctx-32k on cpu timed out under load). The other suites have no timed check of their own and would double the
// time: about 3 minutes quiet and 7 beside the hog on an idle 2-core machine for these two.
//
// long-context needs the runner's first-token timeout, which grows with the prompt (src/core/timeouts.ts):
// with only the 30 s silence timeout, a 32K prefill on cpu and a 4K one on vulkan outlast it beside the hog.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary, Status } from '../../src/core/types.ts';
import { conform, makeProject, REPO } from '../helpers/conform-cli.ts';
import { withCpuHog } from '../helpers/cpu-hog.ts';
import { readRunSummary } from '../../src/record/run-folder.ts';

const SUITES = ['cold-warm', 'long-context'];
const RUN_TIMEOUT_MS = 1_200_000;

interface Outcome {
  exitCode: number | undefined;
  wallS: number;
  summary: RunSummary;
  /** case id → its status and each check's status, e.g. "pass: start-budget=pass". */
  verdicts: Record<string, string>;
  output: string;
}

async function runSuites(project: string): Promise<Outcome> {
  const started = performance.now();
  const result = await conform(['run', ...SUITES.flatMap((s) => ['--suite', s])], { cwd: project, timeout: RUN_TIMEOUT_MS });
  const wallS = (performance.now() - started) / 1000;
  const output = `${result.stdout}\n${result.stderr}`;
  const runDir = /Results: (\S+)/.exec(result.stdout)?.[1];
  expect(runDir, output).toBeDefined();
  const summary = readRunSummary(runDir!, '/').summary;
  const verdicts = Object.fromEntries(summary.results.map((r) => [`${r.backend}/${r.suite}/${r.caseId}`, `${r.status}: ${r.verdicts.map((v) => `${v.check}=${v.status}`).join(', ')}`]));
  return { exitCode: result.exitCode, wallS, summary, verdicts, output };
}

/** The messages of every verdict that is not a pass or a skip, to show why a run differs. */
function problems(outcome: Outcome): string[] {
  return outcome.summary.results.flatMap((r) => r.verdicts.filter((v) => v.status !== 'pass' && v.status !== 'skip').map((v) => `${r.backend}/${r.suite}/${r.caseId} ${v.check} ${v.status}: ${v.message}`));
}

function slowdowns(outcome: Outcome): string {
  return outcome.summary.results
    .filter((r) => r.sample?.machine)
    .map((r) => `${r.backend}/${r.caseId} ${r.sample!.machine!.slowdown.toFixed(2)}×`)
    .join(', ');
}

describe.runIf(process.platform === 'linux')('verdicts on a busy machine', () => {
  let project: string;
  beforeAll(() => {
    project = makeProject(['suites', 'golden', 'conform.config.ts']);
    const config = readFileSync(join(project, 'conform.config.ts'), 'utf8').replace('./src/', `${REPO}/src/`);
    writeFileSync(join(project, 'conform.config.ts'), config);
  });

  it(`gives the same verdicts, all passing, quiet and beside a CPU hog (${SUITES.join(', ')})`, async () => {
    const quiet = await runSuites(project);
    const busy = await withCpuHog(() => runSuites(project));
    console.log(`busy-machine: quiet ${quiet.wallS.toFixed(0)} s, busy ${busy.wallS.toFixed(0)} s\n  quiet slowdowns: ${slowdowns(quiet)}\n  busy slowdowns: ${slowdowns(busy)}`);
    expect(problems(quiet), quiet.output).toEqual([]);
    expect(problems(busy), busy.output).toEqual([]);
    expect(busy.verdicts).toEqual(quiet.verdicts);
    expect(Object.keys(quiet.verdicts).length).toBeGreaterThan(0);
    for (const run of [quiet, busy]) expect(run.exitCode, run.output).toBe(0);
    // Every backend of the default matrix really ran in both runs: a vulkan skipped for want of a driver would prove
    // nothing here, and cpu-q8's verdicts (its own class, its own loop limit) are among those compared.
    for (const run of [quiet, busy]) expect(run.summary.backends.map((b) => `${b.name}:${b.state}`)).toEqual(['cpu:ran', 'cpu-q8:ran', 'vulkan:ran']);
    expect(Object.keys(quiet.verdicts).filter((id) => id.startsWith('cpu-q8/')).length).toBeGreaterThan(0);
  }, 2 * RUN_TIMEOUT_MS + 60_000);
});
