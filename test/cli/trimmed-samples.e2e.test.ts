// `conform run` lets go of a passing sample's answer once it is judged and journaled (issue 11: a run
// holds figures, not answers). Nothing a user sees may change: the report still shows every answer, read
// back from samples.jsonl, and a case that compares with an earlier one still has that one's answer.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRunSummary } from '../../src/record/run-folder.ts';
import { conform, makeProject, REPO } from '../helpers/conform-cli.ts';

const SUITE = `suite: echoes
description: answers that repeat the prompt
defaults:
  endpoint: chat
  params: { max_tokens: 4, temperature: 0 }
cases:
  - { id: first, messages: [{ role: user, content: "apple <b>one</b>" }], checks: [{ kind: max-tokens }] }
  - { id: again, messages: [{ role: user, content: "apple <b>one</b>" }], checks: [{ kind: matches-case, case: first }] }
  - { id: broken, messages: [{ role: user, content: pear }], params: { max_tokens: 1 }, checks: [{ kind: max-tokens }] }
`;

let server: ChildProcess;
let port: number;

beforeAll(async () => {
  server = spawn(process.execPath, [join(REPO, 'test', 'fixtures', 'servers', 'echo-prompt-server.mjs'), '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  port = await new Promise<number>((resolve, reject) => {
    server.stdout!.on('data', (chunk: Buffer) => {
      const found = /listening (\d+)/.exec(chunk.toString());
      if (found) resolve(Number(found[1]));
    });
    server.once('exit', (code) => reject(new Error(`echo-prompt-server exited (${code})`)));
  });
}, 30_000);
afterAll(() => server?.kill());

describe('conform run keeps answers on disk, not in memory', () => {
  it('still shows every answer in report.html and still compares with an earlier case', async () => {
    const project = makeProject([], {
      'echoes.yaml': SUITE,
      'conform.config.yaml': `backends:\n  - { name: echo, class: cpu, model: echo, baseUrl: "http://127.0.0.1:${port}/v1" }\nsuites: [echoes.yaml]\nreference: echo\n`,
    });
    const run = await conform(['run'], { cwd: project, timeout: 60_000 });
    const runDir = /Results: (\S+)/.exec(run.stdout)?.[1];
    expect(runDir, `${run.stdout}\n${run.stderr}`).toBeDefined();
    const { summary } = readRunSummary(runDir!, project);
    const status = Object.fromEntries(summary.results.map((r) => [r.caseId, r.status]));
    expect(status).toEqual({ first: 'pass', again: 'pass', broken: 'fail' });
    expect(summary.results.find((r) => r.caseId === 'again')!.verdicts.find((v) => v.check === 'matches-case')?.status).toBe('pass');
    // The passing answers come back from the journal into the report, escaped; the failing one was never let go.
    const html = readFileSync(join(runDir!, 'report.html'), 'utf8');
    expect(html.split('echo: apple &lt;b&gt;one&lt;/b&gt;').length - 1).toBeGreaterThanOrEqual(2);
    expect(html).toContain('echo: pear');
    expect(html).not.toContain('<b>one</b>');
    // The in-memory mark never reaches a file.
    for (const file of ['summary.json', 'samples.jsonl', 'junit.xml', 'summary.md']) expect(readFileSync(join(runDir!, file), 'utf8'), file).not.toContain('sampleTrimmed');
  }, 90_000);
});
