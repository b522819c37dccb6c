import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BackendRun, CaseResult, RunSummary, Verdict } from '../core/types.ts';
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
  return `[${v.status}] ${v.check}: ${v.message} (measured ${show(v.measured)}, threshold ${show(v.threshold)})`;
}

/** The first verdict that explains a case's status; every verdict goes in the element body. */
function decisive(result: CaseResult): Verdict | undefined {
  return result.verdicts.find((v) => v.status === result.status) ?? result.verdicts[0];
}

function testcase(result: CaseResult, classname: string): string {
  const time = seconds(result.sample?.timings.endMs);
  const open = `    <testcase classname="${xmlAttr(classname)}" name="${xmlAttr(result.caseId)}" time="${time}"`;
  if (result.status === 'pass') return `${open}/>`;
  const v = decisive(result);
  const message = v ? `${v.check}: ${v.message}` : result.status;
  const body = result.verdicts.map(verdictLine);
  if (result.sample?.error) body.push(`sample ${result.sample.kind}${result.sample.error.status ? ` (HTTP ${result.sample.error.status})` : ''}: ${result.sample.error.message}`);
  const lines = [`${open}>`];
  if (result.status === 'skip') lines.push(`      <skipped message="${xmlAttr(message)}"/>`);
  else {
    const element = result.status === 'fail' ? 'failure' : 'error';
    lines.push(`      <${element} message="${xmlAttr(message)}" type="${xmlAttr(v?.check ?? result.status)}">${xmlText(body.join('\n'))}</${element}>`);
    if (result.sample?.text) lines.push(`      <system-out>${xmlText(result.sample.text)}</system-out>`);
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
  return ['    <properties>', ...present.map(([k, v]) => `      <property name="${xmlAttr(k)}" value="${xmlAttr(String(v))}"/>`), '    </properties>'];
}

/** The junit.xml text: one testsuite per backend × suite, one testcase per case. */
export function renderJunit(summary: RunSummary, options: JunitReporterOptions = {}): string {
  const hostname = options.hostname ?? 'localhost';
  const timestamp = junitTimestamp(summary.startedAt);
  const groups = new Map<string, { backend: string; suite: string; results: CaseResult[] }>();
  // Backends and suites in the summary's order, so the file reads like the console matrix.
  const backends = [...summary.backends.map((b) => b.name), ...summary.results.map((r) => r.backend)];
  const suites = [...summary.suites, ...summary.results.map((r) => r.suite)];
  for (const backend of new Set(backends))
    for (const suite of new Set(suites)) {
      const results = summary.results.filter((r) => r.backend === backend && r.suite === suite);
      if (results.length) groups.set(`${backend}\0${suite}`, { backend, suite, results });
    }
  const totals = { tests: 0, failures: 0, errors: 0, ms: 0 };
  const suiteXml: string[] = [];
  let id = 0;
  for (const { backend, suite, results } of groups.values()) {
    const count = (status: CaseResult['status']) => results.filter((r) => r.status === status).length;
    const ms = results.reduce((sum, r) => sum + (r.sample?.timings.endMs ?? 0), 0);
    const c = { tests: results.length, failures: count('fail'), errors: count('error'), skipped: count('skip') };
    totals.tests += c.tests;
    totals.failures += c.failures;
    totals.errors += c.errors;
    totals.ms += ms;
    suiteXml.push(
      `  <testsuite name="${xmlAttr(`${backend}/${suite}`)}" tests="${c.tests}" failures="${c.failures}" errors="${c.errors}" skipped="${c.skipped}" time="${seconds(ms)}" timestamp="${timestamp}" hostname="${xmlAttr(hostname)}" id="${id++}" package="${xmlAttr(backend)}">`,
      ...properties(summary.backends.find((b) => b.name === backend), backend, suite),
      ...results.map((r) => testcase(r, `${backend}.${suite}`)),
      '  </testsuite>',
    );
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    // The root carries only the attributes the common (Jenkins) JUnit XSD allows there; skips are counted per suite.
    `<testsuites name="${xmlAttr(`conform ${summary.runId}`)}" tests="${totals.tests}" failures="${totals.failures}" errors="${totals.errors}" time="${seconds(totals.ms)}">`,
    ...suiteXml,
    '</testsuites>',
    '',
  ].join('\n');
}

/** Writes junit.xml for CI test views: conformance failures as <failure>, infrastructure trouble as <error>. */
export function createJunitReporter(options: JunitReporterOptions = {}): Reporter {
  return {
    onRunEnd(summary, runDir) {
      writeFileSync(join(runDir, 'junit.xml'), renderJunit(summary, options));
    },
  };
}
