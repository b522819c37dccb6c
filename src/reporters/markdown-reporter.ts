import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BackendRun, Counts, RunSummary } from '../core/types.ts';
import { clip, decisiveVerdict, divergenceOf, formatMs, MAX_SHOWN_TOKEN, partialNote, resumedNote, visibleText, visibleToken } from './html/report-text.ts';
import { deviationsByBackend } from './deviations.ts';
import type { Reporter } from './reporter.ts';
import { telemetryMarkdown } from '../telemetry/report/telemetry-text.ts';

export interface MarkdownReporterOptions {
  /**
   * A file to append the same markdown to: the CLI passes `$GITHUB_STEP_SUMMARY`, so a GitHub Actions job
   * shows the matrix on its summary page. Reporters never read the environment themselves.
   */
  githubStepSummary?: string;
}

/** Longest table a section gets; the step summary is capped at 1 MiB and nobody reads row 500. */
const MAX_ROWS = 100;
/** Longest text of one table cell (characters). */
const MAX_CELL = 500;

/**
 * Text safe in a GitHub-flavoured table cell: control characters shown as \uXXXX, line breaks folded, HTML
 * neutralised as entities, and the punctuation that could start markup (pipes, backticks, emphasis, links)
 * backslash-escaped.
 */
export function mdText(value: string): string {
  // A table cell is a line someone reads: clipped first, so no huge message is escaped whole.
  return visibleText(clip(value, MAX_CELL))
    .replace(/\r\n|\r|\n/g, ' ')
    .replace(/[\\`*_[\]|~]/g, (c) => `\\${c}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

const row = (cells: string[]) => `| ${cells.join(' | ')} |`;

function countsCell(c: Counts | undefined): string {
  if (!c || c.pass + c.fail + c.error + c.skip === 0) return '—';
  const icon = c.fail ? '❌' : c.error ? '⚠️' : c.pass ? '✅' : '⏭️';
  const parts = (['pass', 'fail', 'error', 'skip'] as const).filter((k) => c[k] > 0).map((k) => `${c[k]} ${k}`);
  return `${icon} ${parts.join(', ')}`;
}

function backendCells(run: BackendRun): string[] {
  const id = run.identity ?? {};
  const state = run.state === 'ran' ? 'ran' : `${run.state}${run.reason ? `: ${run.reason}` : ''}`;
  return [
    `**${mdText(run.name)}**`,
    mdText(run.class),
    mdText(state),
    mdText([id.engine, id.engineVersion].filter(Boolean).join(', ') || '—'),
    mdText(id.device ?? '—'),
    formatMs(run.coldStart?.spawnToHealthyMs),
    formatMs(run.coldStart?.healthyToFirstAnswerMs),
  ];
}

function capped(lines: string[], total: number, what: string): string[] {
  return total > MAX_ROWS ? [...lines, '', `… and ${total - MAX_ROWS} more ${what}; see summary.json or report.html.`] : lines;
}

/** The summary.md text: backends, the backend × suite matrix, divergences, then every failure and error. */
export function renderMarkdown(summary: RunSummary): string {
  const t = summary.totals;
  const headline = t.fail ? `❌ ${t.fail} conformance failure${t.fail === 1 ? '' : 's'}` : t.error ? `⚠️ ${t.error} infrastructure error${t.error === 1 ? '' : 's'}` : t.pass ? '✅ all cases passed' : '⏭️ nothing ran';
  const out: string[] = [
    `## conform run ${mdText(summary.runId)}: ${summary.partial ? '⏸️ partial, ' : ''}${headline}`,
    '',
    `**${t.pass} passed, ${t.fail} failed, ${t.error} errors, ${t.skip} skipped** · conform ${mdText(summary.conformVersion)} · started ${mdText(summary.startedAt)}`,
    '',
    ...[partialNote(summary), resumedNote(summary)].filter(Boolean).flatMap((note) => [`> ${mdText(note)}`, '']),
    '### Backends',
    '',
    row(['backend', 'class', 'state', 'engine', 'device', 'spawn → healthy', 'healthy → first answer']),
    row(['---', '---', '---', '---', '---', '---:', '---:']),
    ...summary.backends.map((b) => row(backendCells(b))),
    ...telemetryMarkdown(summary, mdText),
  ];

  const backends = [...new Set([...summary.backends.map((b) => b.name), ...Object.keys(summary.matrix)])];
  const suites = [...new Set([...summary.suites, ...summary.results.map((r) => r.suite)])];
  out.push('', '### Backend × suite', '', row(['backend', ...suites.map(mdText), 'all suites']), row(['---', ...suites.map(() => '---'), '---']));
  for (const backend of backends) {
    const all: Counts = { pass: 0, fail: 0, error: 0, skip: 0 };
    const cells = suites.map((suite) => {
      const c = summary.matrix[backend]?.[suite];
      if (c) for (const k of ['pass', 'fail', 'error', 'skip'] as const) all[k] += c[k];
      return countsCell(c);
    });
    out.push(row([`**${mdText(backend)}**`, ...cells, countsCell(all)]));
  }

  const divergences = summary.results.flatMap((r) => {
    const d = divergenceOf(r);
    return d ? [{ r, d }] : [];
  });
  if (divergences.length) {
    out.push('', '### Greedy divergences', '', row(['case', 'token', 'kind', 'golden → got', 'gap', 'message']), row(['---', '---:', '---', '---', '---:', '---']));
    const lines = divergences.slice(0, MAX_ROWS).map(({ r, d }) =>
      row([
        mdText(`${r.backend}/${r.suite}/${r.caseId}`),
        String(d.index),
        d.kind === 'near-tie' ? '🟡 near-tie' : `🔴 ${d.kind}`,
        d.golden && d.got ? `${mdText(visibleToken(clip(d.golden.token, MAX_SHOWN_TOKEN, false)))} → ${mdText(visibleToken(clip(d.got.token, MAX_SHOWN_TOKEN, false)))}` : '—',
        d.gap !== undefined ? d.gap.toFixed(3) : '—',
        mdText(d.verdict.message),
      ]),
    );
    out.push(...capped(lines, divergences.length, 'divergences'));
  }

  const deviations = deviationsByBackend(summary).flatMap(({ backend, kinds }) => kinds.map((d) => ({ backend, d })));
  if (deviations.length) {
    out.push('', '### Protocol deviations', '', row(['backend', 'deviation', 'samples', 'cases']), row(['---', '---', '---:', '---']));
    const lines = deviations.slice(0, MAX_ROWS).map(({ backend, d }) => row([`**${mdText(backend)}**`, mdText(d.kind), String(d.count), mdText(d.cases.slice(0, 5).join(', ') + (d.cases.length > 5 ? ` and ${d.cases.length - 5} more` : ''))]));
    out.push(...capped(lines, deviations.length, 'deviation kinds'));
  }

  const problems = summary.results.filter((r) => r.status === 'fail' || r.status === 'error');
  if (problems.length) {
    out.push('', '### Failures and errors', '', row(['status', 'case', 'check', 'message']), row(['---', '---', '---', '---']));
    const lines = problems.slice(0, MAX_ROWS).map((r) => {
      const v = decisiveVerdict(r);
      return row([r.status === 'fail' ? '❌ FAIL' : '⚠️ ERROR', mdText(`${r.backend}/${r.suite}/${r.caseId}`), mdText(v?.check ?? '—'), mdText(v?.message ?? '')]);
    });
    out.push(...capped(lines, problems.length, 'failures and errors'));
  }
  out.push('', `<sub>Run ${mdText(summary.runId)}: report.html, junit.xml and summary.json are in the run folder.</sub>`, '');
  return out.join('\n');
}

/** Writes summary.md, and appends the same text to the GitHub step summary when given one. */
export function createMarkdownReporter(options: MarkdownReporterOptions = {}): Reporter {
  return {
    onRunEnd(summary, runDir) {
      const markdown = renderMarkdown(summary);
      writeFileSync(join(runDir, 'summary.md'), markdown);
      if (options.githubStepSummary) appendFileSync(options.githubStepSummary, `${markdown}\n`);
    },
  };
}
