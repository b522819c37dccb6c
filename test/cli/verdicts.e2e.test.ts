// Verdicts about servers conform did not write: each backend here is a tiny loopback server with one known
// way of going wrong while answering 200 (test/fixtures/servers/misbehaving-server.mjs). Golden is recorded
// on its honest mode; `conform run` must then name each fault with the right check, in every report.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary, Verdict } from '../../src/core/types.ts';
import { conform, makeProject, REPO } from '../helpers/conform-cli.ts';

const SERVER = join(REPO, 'test', 'fixtures', 'servers', 'misbehaving-server.mjs');
const MODES = ['honest', 'reasoning-moved', 'stale-text', 'seed-dropped', 'truncating', 'over-max-tokens', 'no-done', 'error-in-stream', 'empty-tool-id', 'other-model', 'forced-raw', 'rank-swap', 'noisy'];
const LONG = Array.from({ length: 100 }, (_, i) => `word${i}`).join(' ');

const SUITE = `suite: toy
description: one case per fault the misbehaving server can show
defaults:
  params: { max_tokens: 8, temperature: 0, logprobs: true, top_logprobs: 3 }
  checks: [{ kind: exact }, { kind: greedy-divergence }]
cases:
  - id: hello
    messages: [{ role: user, content: Say hello. }]
  - id: sea
    messages: [{ role: user, content: Write about the sea. }]
  - id: long
    messages: [{ role: user, content: "${LONG}" }]
  - id: seeded
    messages: [{ role: user, content: Tell me something random. }]
    params: { temperature: 1, seed: 42 }
    repeat: { count: 2, mode: serial }
    checks: [{ kind: exact }, { kind: seed }]
  - id: streamed
    messages: [{ role: user, content: Say hello. }]
    params: { stream: true }
    checks: [{ kind: greedy-divergence }, { kind: stream-invariants }]
  - id: tool
    messages: [{ role: user, content: What time is it? }]
    params:
      tools: [{ type: function, function: { name: get_time, parameters: { type: object, properties: {} } } }]
      tool_choice: { type: function, function: { name: get_time } }
    checks: [{ kind: tool-call }, { kind: greedy-divergence }]
`;

const backend = (mode: string) => `  - { name: ${mode}, class: cpu, model: toy, launch: { command: "${process.execPath}", args: ["${SERVER}", "{port}", "${mode}"] } }`;
const CONFIG = `backends:\n${MODES.map(backend).join('\n')}\nsuites: ["suites/*.yaml"]\nreference: honest\n`;

/** The newest run folder: `conform record` writes one too. */
function newestRun(project: string): string {
  const dirs = readdirSync(join(project, 'reports')).filter((d) => !d.startsWith('.')).sort();
  return join(project, 'reports', dirs.at(-1)!);
}

describe('conform run against servers that misbehave with 200', () => {
  let project: string;
  let run: Awaited<ReturnType<typeof conform>>;
  let summary: RunSummary;
  const verdict = (backendName: string, caseId: string, check: string): Verdict | undefined =>
    summary.results.find((r) => r.backend === backendName && r.caseId === caseId)?.verdicts.find((v) => v.check === check);

  beforeAll(async () => {
    project = makeProject([], { 'conform.config.yaml': CONFIG });
    mkdirSync(join(project, 'suites'));
    writeFileSync(join(project, 'suites', 'toy.yaml'), SUITE);
    const record = await conform(['record', '--backend', 'honest'], { cwd: project });
    expect(record.exitCode, record.stderr + record.stdout).toBe(0);
    run = await conform(['run'], { cwd: project });
    summary = JSON.parse(readFileSync(join(newestRun(project), 'summary.json'), 'utf8')) as RunSummary;
  }, 180_000);

  it('passes the honest server on every case, implicit checks included', () => {
    const mine = summary.results.filter((r) => r.backend === 'honest');
    expect(mine.map((r) => [r.caseId, r.status])).toEqual(['hello', 'sea', 'long', 'seeded', 'streamed', 'tool'].map((id) => [id, 'pass']));
    const checks = new Set(mine.flatMap((r) => r.verdicts.map((v) => v.check)));
    for (const implicit of ['model', 'prompt-tokens', 'max-tokens', 'text-matches-tokens']) expect(checks).toContain(implicit);
    expect(verdict('honest', 'seeded', 'seed')?.status).toBe('pass');
  });

  it('item 10: reasoning moved out of the content fails reasoning-split, though the tokens match', () => {
    expect(verdict('reasoning-moved', 'hello', 'greedy-divergence')?.status).toBe('pass');
    expect(verdict('reasoning-moved', 'hello', 'reasoning-split')).toMatchObject({ status: 'fail' });
    expect(verdict('reasoning-moved', 'hello', 'reasoning-split')!.message).toContain('split differently');
  });

  it('item 14: words in the text that the tokens never spelled fail text-matches-tokens', () => {
    expect(verdict('stale-text', 'sea', 'greedy-divergence')?.status).toBe('pass');
    expect(verdict('stale-text', 'sea', 'text-matches-tokens')).toMatchObject({ status: 'fail' });
  });

  it('item 13: a dropped seed fails the seed check on a backend other than golden’s', () => {
    expect(verdict('seed-dropped', 'seeded', 'exact')?.status).toBe('skip');
    expect(verdict('seed-dropped', 'seeded', 'seed')!.message).toMatch(/^seeds 43, 44 gave the same sample as seed 42/);
  });

  it('items 3 and 15: a prompt cut to the context with 200 fails prompt-tokens, naming both counts', () => {
    const v = verdict('truncating', 'long', 'prompt-tokens')!;
    expect(v.status).toBe('fail');
    expect(v.message).toMatch(/^truncated prompt: the backend read 64 prompt tokens of a prompt that needs 105 \(golden read 105\); its context holds 64/);
    // The divergence that follows is not blamed on the kernels.
    expect(verdict('truncating', 'long', 'greedy-divergence')?.status).toBe('skip');
    expect(verdict('truncating', 'hello', 'prompt-tokens')?.status).toBe('pass');
  });

  it('more completion tokens than max_tokens fail max-tokens', () => {
    expect(verdict('over-max-tokens', 'hello', 'max-tokens')).toMatchObject({ status: 'fail', measured: 24, threshold: 8 });
  });

  it('item 11: a stream without [DONE] and an error object in a 200 stream are fails, not infrastructure errors', () => {
    for (const mode of ['no-done', 'error-in-stream']) expect(verdict(mode, 'streamed', 'sample')?.status, mode).toBe('fail');
    expect(run.exitCode).toBe(1);
  });

  it('item 9: golden from another model fails the model check once, and golden-relative checks do not pretend to compare', () => {
    expect(verdict('other-model', 'hello', 'model')!.message).toBe('golden was recorded with "toy" (sha256 aaaaaaaaaaaa…) on honest; this backend serves "toy" (sha256 bbbbbbbbbbbb…)');
    expect(verdict('other-model', 'hello', 'greedy-divergence')?.status).toBe('skip');
  });

  it('item 5: grammar-forced tokens at −8 to −21 nats are left out of the drift, and say so', () => {
    const v = verdict('forced-raw', 'tool', 'greedy-divergence')!;
    expect(v.status).toBe('pass');
    expect(v.message).toMatch(/no divergence over 5 tokens; .* over 0 of 5 shared positions \(5 grammar-forced left out\)/);
  });

  it('item 5: a rank-1/rank-2 swap 0.316 nats apart is a near-tie at the class tolerance', () => {
    const v = verdict('rank-swap', 'hello', 'greedy-divergence')!;
    expect(v.status).toBe('pass');
    expect(v.message).toMatch(/^near-tie flip at token 2: .*logprob gap 0\.31\d ≤ 0\.5 nats/);
  });

  it('item 5: ±0.6 nats of drift on tokens inside both top-k lists still fails', () => {
    expect(verdict('noisy', 'hello', 'greedy-divergence')!.message).toMatch(/^logprobs drift over the shared prefix: max 0\.600 at token \d, p99 0\.600 over 8 of 8 shared positions, above 0\.25 nats$/);
  });

  it('item 6: protocol deviations appear in the console, summary.md and junit.xml', () => {
    expect(run.stdout).toContain('Protocol deviations');
    expect(run.stdout).toMatch(/empty-tool-id: .*tool-call-id-empty ×1 \(toy\/tool\)/);
    const dir = newestRun(project);
    const markdown = readFileSync(join(dir, 'summary.md'), 'utf8');
    expect(markdown).toContain('### Protocol deviations');
    expect(markdown).toMatch(/\| \*\*empty-tool-id\*\* \| tool-call-id-empty \| 1 \| toy\/tool \|/);
    const junit = readFileSync(join(dir, 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<testcase classname="empty-tool-id\.toy" name="tool"[^>]*>\s*<system-out>protocol deviations: tool-call-id-empty<\/system-out>/);
  });

  it('item 11: a run whose only trouble is a protocol break exits 1, not 3', async () => {
    const only = await conform(['run', '--backend', 'no-done', '--backend', 'error-in-stream'], { cwd: project });
    expect(only.exitCode, only.stdout).toBe(1);
    expect(only.stdout).toMatch(/FAIL no-done\/toy\/streamed \[sample\]: protocol-error: stream ended without \[DONE\]/);
  }, 60_000);
});
