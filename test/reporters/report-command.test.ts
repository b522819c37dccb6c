import { existsSync, mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliContext } from '../../src/cli/context.ts';
import { REPORT_HELP, reportCommand } from '../../src/cli/commands/report.ts';
import { ConformError } from '../../src/core/errors.ts';
import { REPORTER_NAMES, REPORTERS } from '../../src/reporters/index.ts';
import { renderMarkdown } from '../../src/reporters/markdown-reporter.ts';
import { conform } from '../helpers/conform-cli.ts';
import { fixtureSummary } from './fixture-summary.ts';

/** A project folder without a config (the built-in default: reports/ and golden/) and a context that records output. */
function project(env: Record<string, string> = {}) {
  const cwd = mkdtempSync(join(tmpdir(), 'conform-report-'));
  const out: string[] = [];
  const err: string[] = [];
  const ctx: CliContext = { cwd, env, cacheDir: join(cwd, '.cache'), isTTY: false, out: (l) => out.push(l), err: (l) => err.push(l) };
  return { cwd, ctx, out, err };
}

function runFolder(cwd: string, name: string, summary: unknown = fixtureSummary(), mtime?: Date): string {
  const dir = join(cwd, 'reports', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'summary.json'), typeof summary === 'string' ? summary : JSON.stringify(summary));
  if (mtime) utimesSync(join(dir, 'summary.json'), mtime, mtime);
  return dir;
}

async function rejection(promise: Promise<unknown>): Promise<ConformError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ConformError);
  return error as ConformError;
}

describe('reporters index', () => {
  it('maps exactly the five reporter names to their factories', () => {
    expect(REPORTER_NAMES).toEqual(['console', 'json', 'junit', 'markdown', 'html']);
    for (const factory of Object.values(REPORTERS)) expect(typeof factory).toBe('function');
  });
});

describe('conform report', () => {
  it('re-renders junit, markdown and html into the newest run folder by default', async () => {
    const { cwd, ctx, out } = project();
    const older = runFolder(cwd, '20260301T000000Z-aaaaaa', fixtureSummary(), new Date('2026-03-01T00:00:00Z'));
    const newer = runFolder(cwd, '20260302T100000Z-5eed01', fixtureSummary(), new Date('2026-03-02T00:00:00Z'));
    expect(await reportCommand([], ctx)).toBe(0);
    for (const file of ['junit.xml', 'summary.md', 'report.html']) {
      expect(existsSync(join(newer, file)), file).toBe(true);
      expect(existsSync(join(older, file)), file).toBe(false);
    }
    expect(readFileSync(join(newer, 'summary.md'), 'utf8')).toBe(renderMarkdown(fixtureSummary()));
    expect(out).toEqual([`${join('reports', '20260302T100000Z-5eed01')}: wrote junit.xml, summary.md, report.html`]);
  });

  it('takes a run folder and a comma-separated or repeated --reporter list', async () => {
    const { cwd, ctx, out } = project({ GITHUB_STEP_SUMMARY: '' });
    const dir = runFolder(cwd, 'run-a');
    expect(await reportCommand([dir, '--reporter', 'junit', '--reporter', 'console,junit'], ctx)).toBe(0);
    expect(existsSync(join(dir, 'junit.xml'))).toBe(true);
    expect(existsSync(join(dir, 'summary.md'))).toBe(false);
    expect(existsSync(join(dir, 'report.html'))).toBe(false);
    // console printed the matrix, then the command named what it wrote.
    expect(out.join('\n')).toContain('8 passed, 2 failed, 1 errors, 1 skipped');
    expect(out.at(-1)).toBe(`${join('reports', 'run-a')}: wrote junit.xml`);
  });

  it('appends markdown to $GITHUB_STEP_SUMMARY from its context', async () => {
    const stepSummary = join(mkdtempSync(join(tmpdir(), 'conform-step-')), 'summary.md');
    const { cwd, ctx } = project({ GITHUB_STEP_SUMMARY: stepSummary });
    const dir = runFolder(cwd, 'run-b');
    expect(await reportCommand([dir, '--reporter', 'markdown'], ctx)).toBe(0);
    expect(readFileSync(stepSummary, 'utf8')).toBe(`${renderMarkdown(fixtureSummary())}\n`);
  });

  it('names the file when the record cannot be read: no folder, no summary, bad JSON, wrong schemaVersion', async () => {
    const { cwd, ctx } = project();
    const missing = await rejection(reportCommand(['reports/nope'], ctx));
    expect(missing.code).toBe('RECORD_INVALID');
    expect(missing.message).toBe('reports/nope: no such run folder');

    mkdirSync(join(cwd, 'reports', 'empty'), { recursive: true });
    const empty = await rejection(reportCommand(['reports/empty'], ctx));
    expect(empty.code).toBe('RECORD_INVALID');
    expect(empty.message).toContain(join('reports', 'empty', 'summary.json'));

    runFolder(cwd, 'bad-json', '{"schemaVersion": 1,');
    const bad = await rejection(reportCommand(['reports/bad-json'], ctx));
    expect(bad.code).toBe('RECORD_INVALID');
    expect(bad.message).toMatch(/^reports\/bad-json\/summary\.json: not valid JSON: /);

    runFolder(cwd, 'future', { ...fixtureSummary(), schemaVersion: 2 });
    const future = await rejection(reportCommand(['reports/future'], ctx));
    expect(future.code).toBe('RECORD_INVALID');
    expect(future.message).toMatch(/^reports\/future\/summary\.json: schemaVersion 2, expected 1/);

    runFolder(cwd, 'not-a-summary', { schemaVersion: 1, runId: 'x' });
    const shape = await rejection(reportCommand(['reports/not-a-summary'], ctx));
    expect(shape.code).toBe('RECORD_INVALID');
    expect(shape.message).toBe(`${join('reports', 'not-a-summary', 'summary.json')}: startedAt or finishedAt is not a date; expected a conform summary.json (docs/run-record.md)`);
  });

  it('says so when there is no run to default to, and rejects unknown reporters as usage errors', async () => {
    const { ctx } = project();
    const none = await rejection(reportCommand([], ctx));
    expect(none.code).toBe('RECORD_INVALID');
    expect(none.message).toContain('reports: no run folder with a summary.json');
    const unknown = await rejection(reportCommand(['--reporter', 'junit,pdf'], ctx));
    expect(unknown.code).toBe('USAGE');
    expect(unknown.message).toContain('"pdf"');
    expect(unknown.message).toContain('console, json, junit, markdown, html');
  });

  it('prints its help', async () => {
    const { ctx, out } = project();
    expect(await reportCommand(['--help'], ctx)).toBe(0);
    expect(out).toEqual([REPORT_HELP]);
  });

  it('is wired into the CLI', { timeout: 90_000 }, async () => {
    const { cwd } = project();
    const dir = runFolder(cwd, '20260302T100000Z-5eed01');
    const help = await conform(['--help'], { cwd });
    expect(help.stdout).toContain('report   re-render junit, markdown and html');
    const result = await conform(['report', dir], { cwd, timeout: 60_000 });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(existsSync(join(dir, 'report.html'))).toBe(true);
    const broken = await conform(['report', 'reports/missing'], { cwd, timeout: 60_000 });
    expect(broken.exitCode).toBe(2);
    expect(broken.stderr.trim()).toBe('conform report: reports/missing: no such run folder');
  });
});
