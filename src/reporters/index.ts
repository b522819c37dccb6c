import type { GoldenFile } from '../core/types.ts';
import { createConsoleReporter } from './console-reporter.ts';
import { createHtmlReporter } from './html-reporter.ts';
import { createJsonReporter } from './json-reporter.ts';
import { createJunitReporter } from './junit-reporter.ts';
import { createMarkdownReporter } from './markdown-reporter.ts';
import type { Reporter } from './reporter.ts';

/** Every reporter by the name `--reporter` takes: exactly these five. */
export const REPORTERS = {
  console: createConsoleReporter,
  json: createJsonReporter,
  junit: createJunitReporter,
  markdown: createMarkdownReporter,
  html: createHtmlReporter,
} as const;

export type ReporterName = keyof typeof REPORTERS;

export const REPORTER_NAMES = Object.keys(REPORTERS) as ReporterName[];

export function isReporterName(name: string): name is ReporterName {
  return Object.hasOwn(REPORTERS, name);
}

/** What a command knows that some reporter needs; each factory takes only its part. */
export interface ReporterContext {
  write(line: string): void;
  progress: boolean;
  /** `$GITHUB_STEP_SUMMARY`, read by the CLI entry and handed down. */
  githubStepSummary?: string;
  goldens?: ReadonlyMap<string, GoldenFile | undefined>;
}

const FROM_CONTEXT: { [K in ReporterName]: (ctx: ReporterContext) => Reporter } = {
  console: (ctx) => REPORTERS.console({ write: ctx.write, progress: ctx.progress }),
  json: () => REPORTERS.json(),
  junit: () => REPORTERS.junit(),
  markdown: (ctx) => REPORTERS.markdown({ githubStepSummary: ctx.githubStepSummary }),
  html: (ctx) => REPORTERS.html({ goldens: ctx.goldens }),
};

/** Builds a reporter by name with the options it takes from the command's context. */
export function createReporter(name: ReporterName, ctx: ReporterContext): Reporter {
  return FROM_CONTEXT[name](ctx);
}
