import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { EXIT } from '../../core/errors.ts';
import { createRunId } from '../../core/ids.ts';
import { buildSummary } from '../../core/summary.ts';
import { NOTABLE_SLOWDOWN } from '../../core/machine-load.ts';
import type { BackendConfig, CaseResult, GoldenFile, RunSummary, Suite } from '../../core/types.ts';
import { calibrate, runSelftest, type Calibration, type SelftestResult } from '../../faults/selftest.ts';
import { FAULTS } from '../../faults/catalog.ts';
import { readSuiteGolden } from '../../record/golden-store.ts';
import { createJournal } from '../../record/journal.ts';
import { readRunSummary } from '../../record/run-folder.ts';
import { createJsonReporter } from '../../reporters/json-reporter.ts';
import { executeRun } from '../../run/execute-run.ts';
import { selectSuites } from '../../suites/load-suites.ts';
import { intFlag, parseCommandArgs } from '../args.ts';
import type { CliContext } from '../context.ts';
import { interruptSignal, prepareRun } from '../prepare-run.ts';
import { CONFORM_VERSION } from '../version.ts';

export { SELFTEST_HELP } from '../command-help.ts';
import { SELFTEST_HELP } from '../command-help.ts';

const pct = (x: number) => x.toPrecision(3);

function markdown(result: SelftestResult, calibration: Calibration, cleanRuns: Array<{ runId: string; flagged: string[] }>, from: string): string {
  const lines = [`# conform selftest`, '', `Clean run: \`${from}\``, '', '## Detection matrix', '', '| fault | kind | suite | result | perturbed | caught by (case: check) |', '|---|---|---|---|---|---|'];
  for (const m of result.matrix) {
    const by = [...new Map(m.flips.map((f) => [`${f.caseId}: ${f.check}`, f])).keys()].slice(0, 6).join('; ');
    lines.push(`| ${m.fault} | ${m.kind} | ${m.suite} | **${m.status}**${m.uncaught.length ? ` (${m.uncaught.join(', ')})` : ''} | ${m.perturbed.length} | ${by}${m.note ? ` — ${m.note}` : ''} |`);
  }
  lines.push('', '## False positives', '', `Clean run re-judged against golden: ${result.clean.length} case(s) flagged.`);
  for (const f of result.clean) lines.push(`- ${f.backend}/${f.suite}/${f.caseId} (${f.status}: ${f.checks.join(', ')}${f.slowdown !== undefined ? `; machine ${f.slowdown.toFixed(1)}× slow` : ''}): ${f.message}`);
  for (const [i, r] of cleanRuns.entries()) lines.push(`- extra clean run ${i + 1} (${r.runId}): ${r.flagged.length} flagged${r.flagged.length ? `: ${r.flagged.join(', ')}` : ''}`);
  const a = calibration.absDeltaLogprob;
  lines.push(
    '',
    '## Calibration (non-reference backends vs golden, all clean runs)',
    '',
    `- samples compared: ${calibration.samples}`,
    `- greedy divergence: ${divergenceLine(calibration.divergences)}`,
    `- mean KLD (top-k, shared prefix): ${calibration.meanKld.toExponential(3)}`,
    `- |Δlogprob| over shared prefixes (n=${a.n}): p50 ${pct(a.p50)}, p90 ${pct(a.p90)}, p99 ${pct(a.p99)}, max ${pct(a.max)} nats`,
    '',
    '## Problems',
    '',
    ...(result.problems.length ? result.problems.map((p) => `- ${p}`) : ['none']),
  );
  return `${lines.join('\n')}\n`;
}

/** "148 of 149 samples never diverged; diverged at: weather-under-rate-limits@2 (x10)" rather than a list per sample. */
function divergenceLine(divergences: Array<{ caseId: string; index?: number | null }>): string {
  const parted = new Map<string, number>();
  for (const d of divergences) if (typeof d.index === 'number') parted.set(`${d.caseId}@${d.index}`, (parted.get(`${d.caseId}@${d.index}`) ?? 0) + 1);
  const never = divergences.length - [...parted.values()].reduce((a, b) => a + b, 0);
  const where = [...parted].map(([at, n]) => (n > 1 ? `${at} (x${n})` : at)).join(', ');
  return `${never} of ${divergences.length} samples never diverged${where ? `; diverged at: ${where}` : ''}`;
}

/** A case an extra clean run flagged, with the machine's slowdown where it was measurably slow, so load can be told from a real flag. */
function flaggedLine(r: CaseResult): string {
  const slowdown = r.sample?.machine?.slowdown;
  const slow = slowdown !== undefined && slowdown >= NOTABLE_SLOWDOWN ? `; machine ${slowdown.toFixed(1)}× slow` : '';
  return `${r.backend}/${r.suite}/${r.caseId} (${r.verdicts.filter((v) => v.status === 'fail' || v.status === 'error').map((v) => v.check).join(', ')}${slow})`;
}

/** `conform selftest`: detection power and false positives, measured on real samples. */
export async function selftestCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values } = parseCommandArgs('selftest', argv, {
    from: { type: 'string' },
    'clean-runs': { type: 'string' },
    suite: { type: 'string', multiple: true },
    config: { type: 'string' },
    help: { type: 'boolean' },
  });
  if (values.help) return ctx.out(SELFTEST_HELP), EXIT.ok;
  const cleanRunCount = intFlag('clean-runs', values['clean-runs'], 10);
  const prepared = await prepareRun({ config: values.config }, ctx);
  const goldenDir = resolve(prepared.baseDir, prepared.config.goldenDir);
  const allSuites = prepared.suites;
  const goldens = new Map<string, GoldenFile | undefined>(allSuites.map((s) => [s.name, readSuiteGolden(goldenDir, s)]));
  const reference = prepared.config.reference;
  const stamp = createRunId(new Date(), '').replace(/-$/, '');
  const outDir = resolve(prepared.baseDir, prepared.config.reportsDir, `selftest-${stamp}`);
  mkdirSync(outDir, { recursive: true });
  const interrupt = interruptSignal(ctx);

  const run = async (backends: BackendConfig[], suites: Suite[], dir: string): Promise<RunSummary> => {
    mkdirSync(dir, { recursive: true });
    const startedAt = new Date();
    const journal = createJournal(dir);
    const { backends: runs, results } = await executeRun({
      backends, suites, runDir: dir, modelPath: prepared.modelPath, env: ctx.env, apiKeys: prepared.apiKeys, goldens, mode: 'compare', journal, signal: interrupt.signal,
      hooks: { onBackendProgress: (b, line) => ctx.err(`  ${b}: ${line}`) },
    }).finally(() => journal.close());
    const summary = buildSummary({ runId: relative(resolve(prepared.baseDir, prepared.config.reportsDir), dir), conformVersion: CONFORM_VERSION, startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), backends: runs, suites: suites.map((s) => s.name), results });
    createJsonReporter().onRunEnd?.(summary, dir);
    return summary;
  };

  try {
    let from: string;
    let summary: RunSummary;
    if (values.from) {
      const onDisk = readRunSummary(values.from, ctx.cwd);
      summary = onDisk.summary;
      from = relative(ctx.cwd, onDisk.dir) || onDisk.dir;
    } else {
      ctx.err('selftest: no --from; running every suite on every backend once for the clean sample');
      summary = await run(prepared.backends, allSuites, join(outDir, 'clean-0'));
      from = relative(ctx.cwd, join(outDir, 'clean-0'));
    }
    const cleanSuites = selectSuites(allSuites, values.suite?.length ? values.suite : ['smoke']);
    const others = prepared.backends.filter((b) => b.name !== reference);
    const extra: RunSummary[] = [];
    for (let i = 1; i <= cleanRunCount && others.length > 0 && !interrupt.signal.aborted; i++) {
      ctx.err(`selftest: clean run ${i}/${cleanRunCount} on ${others.map((b) => b.name).join(', ')} (${cleanSuites.map((s) => s.name).join(', ')})`);
      extra.push(await run(others, cleanSuites, join(outDir, `clean-${i}`)));
    }
    const suites = values.suite?.length ? selectSuites(allSuites, values.suite) : allSuites;
    const result = runSelftest({ summary, suites, goldens, reference, backends: prepared.config.backends, extraCleanRuns: extra });
    const calibration = calibrate([summary, ...extra], goldens, reference);
    const cleanRuns = extra.map((r) => ({ runId: r.runId, flagged: r.results.filter((x) => x.status === 'fail' || x.status === 'error').map(flaggedLine) }));
    for (const r of cleanRuns) for (const f of r.flagged) result.problems.push(`extra clean run ${r.runId} flagged ${f}`);
    writeFileSync(join(outDir, 'selftest.json'), `${JSON.stringify({ from, faults: [...FAULTS.values()].map(({ name, kind, backend, description, expect }) => ({ name, kind, backend, description, expect })), ...result, cleanRuns, calibration }, null, 2)}\n`);
    const md = markdown(result, calibration, cleanRuns, from);
    writeFileSync(join(outDir, 'selftest.md'), md);
    ctx.out(md);
    ctx.out(`selftest: wrote ${relative(ctx.cwd, outDir)}/selftest.json and selftest.md`);
    if (interrupt.signal.aborted) return 130;
    return result.problems.length > 0 ? EXIT.conformanceFailure : EXIT.ok;
  } finally {
    interrupt.dispose();
  }
}
