import type { BackendRun, CaseResult, Counts, RunSummary } from '../core/types.ts';
import { clip, MAX_SHOWN_MESSAGE, resumedNote } from './html/report-text.ts';
import { describeDeviation, deviationsByBackend } from './deviations.ts';
import type { Reporter } from './reporter.ts';
import { telemetryLines } from '../telemetry/report/telemetry-text.ts';

export interface ConsoleReporterOptions {
  write(line: string): void;
  /** Progress lines only on a terminal; CI logs get the matrix and the failures. */
  progress: boolean;
}

const seconds = (ms?: number) => (ms === undefined ? '?' : `${(ms / 1000).toFixed(1)} s`);

function backendLine(run: BackendRun): string {
  if (run.state === 'skipped') return `${run.name}: skipped: ${clip(run.reason ?? '', MAX_SHOWN_MESSAGE)}`;
  if (run.state === 'crashed' && !run.identity.engine) return `${run.name}: could not start: ${clip(run.reason ?? '', MAX_SHOWN_MESSAGE)}`;
  const id = run.identity;
  const what = [id.engine, id.engineVersion, id.device && `device ${id.device}`].filter(Boolean).join(', ') || 'identity unknown';
  const cold = run.coldStart ? `; up in ${seconds(run.coldStart.spawnToHealthyMs)}, first answer after ${seconds(run.coldStart.healthyToFirstAnswerMs)} more` : '';
  return `${run.name}: ${what}${cold}`;
}

function matrixLines(summary: RunSummary): string[] {
  const rows: string[][] = [['backend', 'suite', 'pass', 'fail', 'error', 'skip']];
  for (const [backend, suites] of Object.entries(summary.matrix))
    for (const [suite, c] of Object.entries(suites) as Array<[string, Counts]>) rows.push([backend, suite, String(c.pass), String(c.fail), String(c.error), String(c.skip)]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '));
}

function divergenceNote(result: CaseResult): string | undefined {
  const verdict = result.verdicts.find((v) => v.check === 'greedy-divergence');
  const index = verdict?.details?.divergenceIndex;
  return typeof index === 'number' && index >= 0 ? `${result.backend}/${result.suite}/${result.caseId}: ${clip(verdict!.message, MAX_SHOWN_MESSAGE)}` : undefined;
}

/** The human view: progress while backends start, then the backend × suite matrix, divergences and every failure. */
export function createConsoleReporter({ write, progress }: ConsoleReporterOptions): Reporter {
  return {
    onBackendProgress(backend, line) {
      if (progress) write(`… ${backend}: ${line}`);
    },
    onBackendReady(run) {
      if (progress) write(`✓ ${backendLine(run)}`);
    },
    onResult(result: CaseResult) {
      if (progress && result.status !== 'pass') write(`  ${result.status.toUpperCase()} ${result.backend}/${result.suite}/${result.caseId}`);
    },
    onRunEnd(summary, runDir) {
      write('');
      for (const run of summary.backends) {
        write(backendLine(run));
        const t = run.tolerance;
        const limits = (['degeneration', 'distribution'] as const)
          .filter((check) => t?.[check])
          .map((check) => `, ${check} ${Object.entries(t![check]!).map(([k, v]) => `${k} ${v}`).join(', ')}`)
          .join('');
        if (t) write(`  tolerances (${run.class}): top-k ${t.topK}, divergence gap ≤ ${t.divergenceLogprobGap} nats, prefix |Δlogprob| ≤ ${t.prefixLogprobDelta} nats${limits}; per-check limits are in each verdict`);
        if (run.goodput) write(`  goodput: ${run.goodput.met} of ${run.goodput.judged} latency-judged requests met every SLO`);
        for (const line of telemetryLines(run)) write(`  ${line}`);
      }
      write('');
      for (const line of matrixLines(summary)) write(line);
      const divergences = summary.results.map(divergenceNote).filter(Boolean);
      if (divergences.length) {
        write('');
        write('Greedy divergences:');
        for (const line of divergences) write(`  ${line}`);
      }
      const deviations = deviationsByBackend(summary);
      if (deviations.length) {
        write('');
        write('Protocol deviations (answered, but not as the OpenAI API says):');
        for (const { backend, kinds } of deviations) write(`  ${backend}: ${kinds.map((d) => describeDeviation(d)).join('; ')}`);
      }
      const problems = summary.results.filter((r) => r.status === 'fail' || r.status === 'error');
      if (problems.length) {
        write('');
        write('Failures and errors:');
        // Every failing check, not the first: which ones fail together is often the diagnosis (tools dropped and no call).
        for (const r of problems)
          for (const v of r.verdicts.filter((x) => x.status === r.status))
            write(`  ${r.status.toUpperCase()} ${r.backend}/${r.suite}/${r.caseId} [${v.check}]: ${clip(v.message, MAX_SHOWN_MESSAGE)}`);
      }
      const t = summary.totals;
      write('');
      if (summary.resumed?.length) write(resumedNote(summary));
      if (summary.partial) write(`Partial run: ${summary.partial.recorded} of ${summary.partial.planned} planned cases have a result (${summary.partial.reason}); finish it with: conform run --resume ${runDir}`);
      write(`${t.pass} passed, ${t.fail} failed, ${t.error} errors, ${t.skip} skipped. Results: ${runDir}`);
    },
  };
}
