import type { BackendRun, CaseResult, GoldenFile, RunSummary } from '../core/types.ts';
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

/** What each reporter writes, for naming the output that failed. */
export const REPORTER_OUTPUT: { [K in ReporterName]: string } = { console: 'the console summary', json: 'summary.json', junit: 'junit.xml', markdown: 'summary.md', html: 'report.html' };

/** Several reporters behind one set of hooks, each isolated: one that throws costs only its own output. */
export interface ReporterSet {
  onBackendProgress(backend: string, line: string): void;
  onBackendReady(run: BackendRun): void;
  onResult(result: CaseResult): void;
  /** Ends the run in every reporter, in order; returns each reporter that failed, with a line saying what and why. */
  end(summary: RunSummary, runDir: string): Array<{ name: ReporterName; line: string }>;
}

const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 300);

/** The named reporters as a ReporterSet; a failing reporter is reported once, by what it writes, and the others go on. */
export function createReporterSet(names: ReporterName[], ctx: ReporterContext): ReporterSet {
  const members = names.map((name) => ({ name, reporter: createReporter(name, ctx), failure: undefined as string | undefined }));
  const each = (call: (reporter: Reporter) => void) => {
    for (const member of members) {
      if (member.failure) continue;
      try {
        call(member.reporter);
      } catch (error) {
        member.failure = firstLine(error);
      }
    }
  };
  return {
    onBackendProgress: (backend, line) => each((r) => r.onBackendProgress?.(backend, line)),
    onBackendReady: (run) => each((r) => r.onBackendReady?.(run)),
    onResult: (result) => each((r) => r.onResult?.(result)),
    end(summary, runDir) {
      each((r) => r.onRunEnd?.(summary, runDir));
      return members.filter((m) => m.failure).map((m) => ({ name: m.name, line: `could not write ${REPORTER_OUTPUT[m.name]}: ${m.failure}` }));
    },
  };
}
