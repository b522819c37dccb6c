import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/core/types.ts';
import { conform, makeProject, REPO } from '../helpers/conform-cli.ts';
import { readRunSummary } from '../../src/record/run-folder.ts';

const SERVERS = join(REPO, 'test', 'fixtures', 'servers');

function project(config: string, cases: string[]): string {
  const dir = makeProject([], { 'conform.config.yaml': config });
  mkdirSync(join(dir, 'suites'));
  writeFileSync(join(dir, 'suites', 'hostile.yaml'), ['suite: hostile', 'description: servers that misbehave', 'cases:', ...cases].join('\n'));
  return dir;
}

function summaryOf(stdout: string): RunSummary {
  const runDir = /Results: (\S+)/.exec(stdout)?.[1];
  expect(runDir, stdout).toBeDefined();
  return readRunSummary(runDir!, '/').summary;
}

const streamedCases = (n: number) =>
  Array.from({ length: n }, (_, i) => `  - { id: c${i + 1}, messages: [{ role: user, content: hi }], params: { stream: true, max_tokens: 8 }, checks: [{ kind: degeneration }] }`);

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('a server conform did not launch', () => {
  it('that resets one streamed answer mid-way gets that case as an error and every other case sent', async () => {
    const server = execa(process.execPath, [join(SERVERS, 'reset-server.mjs'), '0', '2'], { reject: false });
    try {
      const port = await new Promise<number>((resolve) => server.stdout!.on('data', (d: Buffer) => /listening (\d+)/.test(String(d)) && resolve(Number(/listening (\d+)/.exec(String(d))![1]))));
      const dir = project(`backends: [{ name: flaky, class: gpu, model: m, baseUrl: "http://127.0.0.1:${port}/v1" }]\nsuites: ["suites/*.yaml"]\n`, streamedCases(5));
      const run = await conform(['run'], { cwd: dir });
      expect(run.stderr).not.toContain('internal error');
      const summary = summaryOf(run.stdout);
      const byCase = new Map(summary.results.map((r) => [r.caseId, r]));
      expect(byCase.get('c2')!.status).toBe('error');
      expect(byCase.get('c2')!.sample?.kind).toBe('crash');
      expect(byCase.get('c2')!.sample?.error?.message).toMatch(/mid-answer/);
      for (const id of ['c1', 'c3', 'c4', 'c5']) {
        expect(byCase.get(id)!.sample?.kind, id).toBe('ok');
        expect(byCase.get(id)!.sample?.text, id).toBe('part one, part two.');
      }
      expect(summary.backends[0]!.state).toBe('ran');
      const stats = await (await fetch(`http://127.0.0.1:${port}/stats`)).json();
      expect(stats).toEqual({ requests: 5, streamed: 5 });
    } finally {
      server.kill();
      await server;
    }
  }, 120_000);

  it('that cannot be reached at all is given up after 3 cases in a row, the rest not sent', async () => {
    const port = await closedPort();
    const dir = project(`backends: [{ name: gone, class: gpu, model: m, maxRetries: 0, baseUrl: "http://127.0.0.1:${port}/v1" }]\nsuites: ["suites/*.yaml"]\n`, streamedCases(5));
    const run = await conform(['run'], { cwd: dir });
    expect(run.exitCode, run.stderr).toBe(3);
    const summary = summaryOf(run.stdout);
    const messages = summary.results.map((r) => r.sample?.error?.message ?? r.verdicts[0]!.message);
    for (const message of messages.slice(0, 3)) expect(message).toMatch(/^no answer from gone at .*ECONNREFUSED/);
    for (const message of messages.slice(3)) expect(message).toMatch(/^gone is unreachable: 3 cases in a row could not connect \(no answer from gone/);
    expect(summary.results.slice(3).every((r) => r.sample === undefined)).toBe(true);
    expect(summary.backends[0]).toMatchObject({ state: 'unavailable', reason: expect.stringContaining('is unreachable') });
  }, 120_000);
});

describe('a big answer and a report that cannot be written', () => {
  it('still writes summary.json, junit.xml, summary.md and report.html, and says in one line what failed', async () => {
    const stepSummary = makeProject([]); // a directory: appending the GitHub step summary to it fails
    const server = join(SERVERS, 'big-body-server.mjs');
    const dir = project(
      `backends: [{ name: big, class: gpu, model: m, launch: { command: "${process.execPath}", args: ["${server}", "{port}", "2"] } }]\nsuites: ["suites/*.yaml"]\n`,
      ['  - { id: big, messages: [{ role: user, content: hi }], checks: [{ kind: exact }] }', '  - { id: again, messages: [{ role: user, content: hi again }], checks: [{ kind: degeneration }] }'],
    );
    // 2 MiB of text, 7 MB of JSON once its control characters are escaped: big, and under the 8 MiB body cap.
    const run = await conform(['run'], { cwd: dir, env: { GITHUB_STEP_SUMMARY: stepSummary } });
    expect(run.stderr).not.toContain('internal error');
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^conform run: could not write summary\.md: EISDIR: illegal operation on a directory/)]);
    expect(run.exitCode).toBe(3); // a report (the step summary) could not be written
    const runDir = /Results: (\S+)/.exec(run.stdout)![1]!;
    for (const file of ['summary.json', 'junit.xml', 'summary.md', 'report.html', 'samples.jsonl']) expect(existsSync(join(runDir, file)), file).toBe(true);
    const summary = summaryOf(run.stdout);
    expect(summary.results.find((r) => r.caseId === 'big')!.sample!.text).toHaveLength(2 * 1024 * 1024);
    expect(readFileSync(join(runDir, 'report.html'), 'utf8')).toContain('more characters; all of them are in samples.jsonl');
  }, 120_000);
});
