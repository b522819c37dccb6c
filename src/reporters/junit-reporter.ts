import { join } from 'node:path';
import type { BackendRun, CaseResult, RunSummary, Verdict } from '../core/types.ts';
import { writeFileInPieces } from '../record/json-writer.ts';
import { clip, MAX_SHOWN_MESSAGE, MAX_SHOWN_TEXT } from './html/report-text.ts';
import { sampleDeviationLine } from './deviations.ts';
import type { Reporter } from './reporter.ts';
import { telemetryProperties } from '../telemetry/report/telemetry-text.ts';

export interface JunitReporterOptions {
  /** The `hostname` attribute of every testsuite; reporters do not look the machine up themselves. @default 'localhost' */
  hostname?: string;
}

// XML 1.0 allows #x9 #xA #xD, #x20–#xD7FF, #xE000–#xFFFD and #x10000–#x10FFFF; anything else cannot be
// escaped (not even as &#1;), only removed. Lone surrogates count as illegal: they encode nothing.
const ILLEGAL_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Character data: illegal characters stripped, markup characters escaped; model output is never trusted. */
export function xmlText(value: string): string {
  return value.replace(ILLEGAL_XML, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
}

/** An attribute value for double quotes; whitespace kept as references so attribute normalisation cannot fold it. */
export function xmlAttr(value: string): string {
  return xmlText(value).replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\n/g, '&#10;').replace(/\t/g, '&#9;');
}

const seconds = (ms: number | undefined) => ((ms ?? 0) / 1000).toFixed(3);

/** `YYYY-MM-DDTHH:MM:SS`, the timestamp form the common JUnit XSD accepts (no fraction, no zone). */
function junitTimestamp(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? new Date(ms).toISOString().slice(0, 19) : '1970-01-01T00:00:00';
}

function show(value: unknown): string {
  if (value === undefined || value === null) return '—';
  return typeof value === 'number' && !Number.isInteger(value) ? value.toFixed(4) : String(value);
}

function verdictLine(v: Verdict): string {
  return `[${v.status}] ${v.check}: ${clip(v.message, MAX_SHOWN_MESSAGE)} (measured ${clip(show(v.measured), MAX_SHOWN_MESSAGE)}, threshold ${clip(show(v.threshold), MAX_SHOWN_MESSAGE)})`;
}

/** The first verdict that explains a case's status; every verdict goes in the element body. */
function decisive(result: CaseResult): Verdict | undefined {
  return result.verdicts.find((v) => v.status === result.status) ?? result.verdicts[0];
}

function testcase(result: CaseResult, classname: string): string {
  const time = seconds(result.sample?.timings.endMs);
  const open = `    <testcase classname="${xmlAttr(classname)}" name="${xmlAttr(result.caseId)}" time="${time}"`;
  const deviations = sampleDeviationLine(result);
  if (result.status === 'pass') return deviations ? `${open}>\n      <system-out>${xmlText(deviations)}</system-out>\n    </testcase>` : `${open}/>`;
  const v = decisive(result);
  const message = v ? `${v.check}: ${clip(v.message, MAX_SHOWN_MESSAGE)}` : result.status;
  const body = result.verdicts.map(verdictLine);
  if (result.sample?.error) body.push(`sample ${result.sample.kind}${result.sample.error.status ? ` (HTTP ${result.sample.error.status})` : ''}: ${clip(result.sample.error.message, MAX_SHOWN_MESSAGE)}`);
  const lines = [`${open}>`];
  if (result.status === 'skip') {
    lines.push(`      <skipped message="${xmlAttr(message)}"/>`);
    if (deviations) lines.push(`      <system-out>${xmlText(deviations)}</system-out>`);
  } else {
    const element = result.status === 'fail' ? 'failure' : 'error';
    lines.push(`      <${element} message="${xmlAttr(message)}" type="${xmlAttr(v?.check ?? result.status)}">${xmlText(body.join('\n'))}</${element}>`);
    // Clipped before escaping: the whole text is in samples.jsonl, and escaping a huge body would copy it again.
    const out = [deviations, result.sample?.text ? clip(result.sample.text, MAX_SHOWN_TEXT) : undefined].filter(Boolean).join('\n');
    if (out) lines.push(`      <system-out>${xmlText(out)}</system-out>`);
  }
  lines.push('    </testcase>');
  return lines.join('\n');
}

function properties(run: BackendRun | undefined, backend: string, suite: string): string[] {
  const entries: Array<[string, unknown]> = [
    ['backend', backend],
    ['suite', suite],
    ['backend.class', run?.class],
    ['backend.state', run?.state],
    ['backend.reason', run?.reason],
    ...Object.entries(run?.identity ?? {}).map(([k, v]): [string, unknown] => [`identity.${k}`, v]),
    ...Object.entries(run?.coldStart ?? {}).map(([k, v]): [string, unknown] => [`coldStart.${k}`, v]),
    ...telemetryProperties(run),
  ];
  const present = entries.filter(([, v]) => v !== undefined && v !== null && v !== '');
  return ['    <properties>', ...present.map(([k, v]) => `      <property name="${xmlAttr(k)}" value="${xmlAttr(clip(String(v), MAX_SHOWN_MESSAGE))}"/>`), '    </properties>'];
}

/** The lines of junit.xml, one at a time: one testsuite per backend × suite, one testcase per case. */
function* junitLines(summary: RunSummary, options: JunitReporterOptions): Generator<string> {
  const hostname = options.hostname ?? 'localhost';
  const timestamp = junitTimestamp(summary.startedAt);
  const groups = new Map<string, { backend: string; suite: string; results: CaseResult[] }>();
  // Backends and suites in the summary's order, so the file reads like the console matrix.
  const backends = [...summary.backends.map((b) => b.name), ...summary.results.map((r) => r.backend)];
  const suites = [...summary.suites, ...summary.results.map((r) => r.suite)];
  const byGroup = new Map<string, CaseResult[]>();
  for (const r of summary.results) {
    const key = `${r.backend}\0${r.suite}`;
    const group = byGroup.get(key);
    if (group) group.push(r);
    else byGroup.set(key, [r]);
  }
  for (const backend of new Set(backends))
    for (const suite of new Set(suites)) {
      const results = byGroup.get(`${backend}\0${suite}`);
      if (results?.length) groups.set(`${backend}\0${suite}`, { backend, suite, results });
    }
  const count = (results: CaseResult[], status: CaseResult['status']) => results.filter((r) => r.status === status).length;
  const elapsed = (results: CaseResult[]) => results.reduce((sum, r) => sum + (r.sample?.timings.endMs ?? 0), 0);
  const totals = { tests: 0, failures: 0, errors: 0, ms: 0 };
  for (const { results } of groups.values()) {
    totals.tests += results.length;
    totals.failures += count(results, 'fail');
    totals.errors += count(results, 'error');
    totals.ms += elapsed(results);
  }
  yield '<?xml version="1.0" encoding="UTF-8"?>';
  // The root carries only the attributes the common (Jenkins) JUnit XSD allows there; skips are counted per suite.
  yield `<testsuites name="${xmlAttr(`conform ${summary.runId}`)}" tests="${totals.tests}" failures="${totals.failures}" errors="${totals.errors}" time="${seconds(totals.ms)}">`;
  let id = 0;
  for (const { backend, suite, results } of groups.values()) {
    const c = { tests: results.length, failures: count(results, 'fail'), errors: count(results, 'error'), skipped: count(results, 'skip') };
    yield `  <testsuite name="${xmlAttr(`${backend}/${suite}`)}" tests="${c.tests}" failures="${c.failures}" errors="${c.errors}" skipped="${c.skipped}" time="${seconds(elapsed(results))}" timestamp="${timestamp}" hostname="${xmlAttr(hostname)}" id="${id++}" package="${xmlAttr(backend)}">`;
    yield* properties(summary.backends.find((b) => b.name === backend), backend, suite);
    for (const r of results) yield testcase(r, `${backend}.${suite}`);
    yield '  </testsuite>';
  }
  yield '</testsuites>';
}

/** The junit.xml text: one testsuite per backend × suite, one testcase per case. */
export function renderJunit(summary: RunSummary, options: JunitReporterOptions = {}): string {
  return `${[...junitLines(summary, options)].join('\n')}\n`;
}

/** Writes junit.xml for CI test views: conformance failures as <failure>, infrastructure trouble as <error>. Written a test case at a time. */
export function createJunitReporter(options: JunitReporterOptions = {}): Reporter {
  return {
    onRunEnd(summary, runDir) {
      writeFileInPieces(join(runDir, 'junit.xml'), (sink) => {
        for (const line of junitLines(summary, options)) sink.write(`${line}\n`);
      });
    },
  };
}
