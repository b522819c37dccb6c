// Remote backends run at once, launched ones one at a time. Told apart by when each answer was in flight,
// not by how long the run took: every server holds each answer 300 ms, so two backends sent to at once
// have overlapping requests, and two run in turn cannot, however busy the machine is.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseResult } from '../../src/core/types.ts';
import { freePort } from '../../src/launch/free-port.ts';
import { readRunSummary } from '../../src/record/run-folder.ts';
import { conform, makeProject, REPO } from '../helpers/conform-cli.ts';

const SERVER = join(REPO, 'test', 'fixtures', 'servers', 'slow-server.mjs');
const DELAY_MS = 300;
const SUITE = `suite: few
description: three short requests
defaults:
  endpoint: chat
  params: { max_tokens: 1, temperature: 0 }
  checks: [{ kind: max-tokens }]
cases:
  - { id: one, messages: [{ role: user, content: one }] }
  - { id: two, messages: [{ role: user, content: two }] }
  - { id: three, messages: [{ role: user, content: three }] }
`;

const servers: ChildProcess[] = [];
const ports: number[] = [];

async function startServer(): Promise<number> {
  const port = await freePort();
  const child = spawn(process.execPath, [SERVER, String(port), String(DELAY_MS)], { stdio: 'ignore' });
  servers.push(child);
  for (let i = 0; i < 100; i++) {
    const up = await fetch(`http://127.0.0.1:${port}/health`).then(() => true, () => false);
    if (up) return port;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`slow-server on ${port} did not start`);
}

beforeAll(async () => {
  ports.push(await startServer(), await startServer());
}, 30_000);
afterAll(() => {
  for (const child of servers) child.kill();
});

/** When each answer of a backend was in flight: [start, end] in epoch ms. */
const windows = (results: CaseResult[], backend: string) =>
  results.filter((r) => r.backend === backend && r.sample).map((r) => [Date.parse(r.sample!.startedAt), Date.parse(r.sample!.startedAt) + r.sample!.timings.endMs] as const);

const overlap = (a: ReadonlyArray<readonly [number, number]>, b: ReadonlyArray<readonly [number, number]>) => a.some(([s1, e1]) => b.some(([s2, e2]) => s1 < e2 && s2 < e1));

describe('conform run with remote and launched backends', () => {
  it('sends to the remote servers at once, and to each launched backend alone, after them', async () => {
    const launch = `{ command: "${process.execPath}", args: ["${SERVER}", "{port}", "${DELAY_MS}"] }`;
    const project = makeProject([], {
      'few.yaml': SUITE,
      'conform.config.yaml': `backends:
  - { name: local-a, class: cpu, model: slow, launch: ${launch} }
  - { name: remote-a, class: cpu, model: slow, baseUrl: "http://127.0.0.1:${ports[0]}/v1" }
  - { name: local-b, class: cpu, model: slow, launch: ${launch} }
  - { name: remote-b, class: cpu, model: slow, baseUrl: "http://127.0.0.1:${ports[1]}/v1" }
suites: [few.yaml]
reference: remote-a
`,
    });
    const run = await conform(['run'], { cwd: project, timeout: 120_000 });
    const runDir = /Results: (\S+)/.exec(run.stdout)?.[1];
    expect(runDir, `${run.stdout}\n${run.stderr}`).toBeDefined();
    const { summary } = readRunSummary(runDir!, project);
    const names = ['local-a', 'remote-a', 'local-b', 'remote-b'];
    for (const name of names) expect(windows(summary.results, name), name).toHaveLength(3);
    expect(overlap(windows(summary.results, 'remote-a'), windows(summary.results, 'remote-b'))).toBe(true);
    for (const local of ['local-a', 'local-b'])
      for (const other of names.filter((n) => n !== local)) expect(overlap(windows(summary.results, local), windows(summary.results, other)), `${local} and ${other}`).toBe(false);
    // The record keeps the config's order whatever ran first.
    expect(summary.backends.map((b) => b.name)).toEqual(names);
    expect([...new Set(summary.results.map((r) => r.backend))]).toEqual(names);
  }, 150_000);
});
