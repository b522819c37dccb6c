import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import type { GoldenFile, RunSummary } from '../core/types.ts';
import { buildReportModel, type ReportModel } from './html/build-report-model.ts';
import type { Reporter } from './reporter.ts';

export interface HtmlReporterOptions {
  /** suite → the golden file the run compared against: the golden side of diffs beyond the divergence, and golden tool calls. */
  goldens?: ReadonlyMap<string, GoldenFile | undefined>;
}

let compiled: Handlebars.TemplateDelegate<ReportModel> | undefined;

/**
 * The template in its own Handlebars environment: no helpers beyond the built-ins, and strict lookups so a
 * field the model lacks is an error here rather than a silently empty cell in someone's report.
 */
function template(): Handlebars.TemplateDelegate<ReportModel> {
  if (!compiled) {
    const source = readFileSync(new URL('./html/report.hbs', import.meta.url), 'utf8');
    compiled = Handlebars.create().compile<ReportModel>(source, { strict: true, knownHelpersOnly: true });
  }
  return compiled;
}

/** The whole report as one self-contained HTML string: build the model, then render it. */
export function renderHtmlReport(summary: RunSummary, options: HtmlReporterOptions = {}): string {
  return template()(buildReportModel(summary, { goldens: options.goldens }));
}

/** Writes report.html: a self-contained page (inline CSS and SVG, no script, no network) for people to read. */
export function createHtmlReporter(options: HtmlReporterOptions = {}): Reporter {
  return {
    onRunEnd(summary, runDir) {
      writeFileSync(join(runDir, 'report.html'), renderHtmlReport(summary, options));
    },
  };
}
