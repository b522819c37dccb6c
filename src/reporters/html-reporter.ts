import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import type { GoldenFile, RunSummary } from '../core/types.ts';
import { writeFileInPieces, type TextSink } from '../record/json-writer.ts';
import { buildReportModel, type ReportModel } from './html/build-report-model.ts';
import type { CaseRow, ReportModelOptions } from './html/report-model-types.ts';
import { createJournalSampleReader } from '../record/journal-lines.ts';
import type { Reporter } from './reporter.ts';

export interface HtmlReporterOptions {
  /** suite → the golden file the run compared against: the golden side of diffs beyond the divergence, and golden tool calls. */
  goldens?: ReadonlyMap<string, GoldenFile | undefined>;
}

interface Templates {
  head: Handlebars.TemplateDelegate<ReportModel>;
  caseRow: Handlebars.TemplateDelegate<CaseRow>;
  tail: Handlebars.TemplateDelegate<ReportModel>;
}

let compiled: Templates | undefined;

// The cases section is rendered one case at a time, so the page is written in pieces: a run with many
// cases, or huge ones, never becomes one string. The template stays one file for people to read;
// these lines mark where it is cut (each is on a line of its own, which Handlebars drops).
const CASES_OPEN = '  {{#each cases}}\n';
const CASES_CLOSE = '  {{/each}}\n</section>\n</main>';

/**
 * The template in its own Handlebars environment: no helpers beyond the built-ins, and strict lookups so a
 * field the model lacks is an error here rather than a silently empty cell in someone's report.
 */
function templates(): Templates {
  if (!compiled) {
    const source = readFileSync(new URL('./html/report.hbs', import.meta.url), 'utf8');
    const open = source.indexOf(CASES_OPEN);
    const close = source.lastIndexOf(CASES_CLOSE);
    if (open < 0 || close < open) throw new Error('report.hbs: the cases section ({{#each cases}} … {{/each}}) was not found');
    const env = Handlebars.create();
    const options = { strict: true, knownHelpersOnly: true };
    compiled = {
      head: env.compile<ReportModel>(source.slice(0, open), options),
      caseRow: env.compile<CaseRow>(source.slice(open + CASES_OPEN.length, close), options),
      tail: env.compile<ReportModel>(source.slice(close + '  {{/each}}\n'.length), options),
    };
  }
  return compiled;
}

function renderInto(sink: TextSink, summary: RunSummary, options: HtmlReporterOptions & Pick<ReportModelOptions, 'loadSample'>): void {
  const model = buildReportModel(summary, { goldens: options.goldens, loadSample: options.loadSample });
  const { head, caseRow, tail } = templates();
  sink.write(head(model));
  // Compact rows are lines of text; a run of them shares one <pre>.
  let inLines = false;
  for (const row of model.cases) {
    if (row.compact !== inLines) sink.write(row.compact ? '  <pre class="case-lines">' : '</pre>\n');
    inLines = row.compact;
    sink.write(caseRow(row));
  }
  if (inLines) sink.write('</pre>\n');
  sink.write(tail(model));
}

/** The whole report as one self-contained HTML string: build the model, then render it. */
export function renderHtmlReport(summary: RunSummary, options: HtmlReporterOptions = {}): string {
  const parts: string[] = [];
  renderInto({ write: (piece) => void parts.push(piece), flush: () => {} }, summary, options);
  return parts.join('');
}

/** Writes report.html: a self-contained page (inline CSS and SVG, no script, no network) for people to read. */
export function createHtmlReporter(options: HtmlReporterOptions = {}): Reporter {
  return {
    onRunEnd(summary, runDir) {
      // Cases shown in full whose answers the run let go of are read back from its journal, one line each.
      const journal = createJournalSampleReader(join(runDir, 'samples.jsonl'));
      try {
        writeFileInPieces(join(runDir, 'report.html'), (sink) => renderInto(sink, summary, { ...options, loadSample: journal.sampleOf }));
      } finally {
        journal.close();
      }
    },
  };
}
