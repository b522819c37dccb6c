// Verdicts against llama.cpp's own llama-server, the peer conform did not write (PEER-NOTES.md): what it
// really does with conform's requests must get the verdict that names it.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/core/types.ts';
import { ensureFixtureModel } from '../../src/engine/fixture-model/ensure-fixture-model.ts';
import { conform, makeProject, REPO } from '../helpers/conform-cli.ts';
import { startPeer, type PeerServer } from '../helpers/llama-server.ts';

const TOOLS = `
      tools:
        - type: function
          function:
            name: get_weather
            parameters: { type: object, properties: { city: { type: string, enum: [Lima, Oslo, Tokyo] } }, required: [city] }
        - type: function
          function:
            name: get_time
            parameters: { type: object, properties: { timezone: { type: string, enum: [America/Lima, Asia/Tokyo] } }, required: [timezone] }`;

const SUITE = `suite: peer-tools
description: named and required tool_choice, which this llama-server ignores with 200 for the fixture model
defaults:
  params: { max_tokens: 24, temperature: 0, logprobs: true, top_logprobs: 5 }
  checks: [{ kind: tool-call }, { kind: exact }, { kind: greedy-divergence }]
cases:
  - id: named
    messages: [{ role: user, content: What time is it in Lima? }]
    params:${TOOLS}
      tool_choice: { type: function, function: { name: get_time } }
  - id: required
    messages: [{ role: user, content: Will it rain in Oslo? }]
    params:${TOOLS}
      tool_choice: required
`;

function newestSummary(project: string): RunSummary {
  const dirs = readdirSync(join(project, 'reports')).filter((d) => !d.startsWith('.')).sort();
  return JSON.parse(readFileSync(join(project, 'reports', dirs.at(-1)!, 'summary.json'), 'utf8')) as RunSummary;
}

describe('llama-server, no golden recorded', () => {
  let peer: PeerServer;
  beforeAll(async () => {
    const { path } = await ensureFixtureModel(join(REPO, '.cache', 'conform'));
    peer = await startPeer({ gpu: 'cpu', modelPath: path, logDir: mkdtempSync(join(tmpdir(), 'peer-verdicts-')) });
  });
  afterAll(async () => peer?.stop());

  it('item 2: an ignored named or required tool_choice fails tool-call, and the missing golden does not hide it', async () => {
    const project = makeProject([], { 'conform.config.yaml': `backends: [{ name: ls-cpu, class: cpu, model: conform-tiny, baseUrl: "${peer.baseUrl}" }]\nsuites: ["suites/*.yaml"]\nreference: ls-cpu\n` });
    mkdirSync(join(project, 'suites'));
    writeFileSync(join(project, 'suites', 'peer-tools.yaml'), SUITE);
    const run = await conform(['run'], { cwd: project });
    const summary = newestSummary(project);
    expect(summary.totals).toMatchObject({ fail: 2, error: 0 });
    expect(run.exitCode, run.stdout).toBe(1);
    for (const id of ['named', 'required']) {
      const result = summary.results.find((r) => r.caseId === id)!;
      expect(result.status).toBe('fail');
      expect(result.verdicts.find((v) => v.check === 'tool-call')).toMatchObject({ status: 'fail', measured: '0 calls' });
      expect(result.verdicts.find((v) => v.check === 'exact')!.message).toContain('no golden sample');
    }
    expect(summary.results.find((r) => r.caseId === 'named')!.verdicts.find((v) => v.check === 'tool-call')!.message).toContain('tool_choice named get_time, so the server ignored it');
    expect(run.stdout).toMatch(/FAIL ls-cpu\/peer-tools\/named \[tool-call\]: no tool call in the answer/);
  }, 120_000);

  it('items 13, 14, 15 and 9: against the committed golden, the checks agree with what the peer really does', async () => {
    const project = makeProject(['suites/smoke.yaml', 'golden/smoke.json'].map((p) => p), {
      'conform.config.yaml': `backends: [{ name: ls-cpu, class: cpu, model: conform-tiny, baseUrl: "${peer.baseUrl}" }]\nsuites: ["suites/*.yaml"]\nreference: cpu\n`,
    });
    await conform(['run'], { cwd: project });
    const summary = newestSummary(project);
    const result = (id: string) => summary.results.find((r) => r.caseId === id)!;
    const verdict = (id: string, check: string) => result(id).verdicts.find((v) => v.check === check);
    // The same model, the same kernels: plain chat passes every check, implicit ones included, bytes and all (chat-unicode).
    for (const id of ['chat-hello', 'chat-system-prompt', 'chat-multi-turn', 'chat-unicode', 'chat-longer-prompt', 'chat-stream', 'completion-basic', 'completion-stream'])
      expect(result(id).verdicts.filter((v) => v.status === 'fail' || v.status === 'error'), id).toEqual([]);
    for (const check of ['prompt-tokens', 'max-tokens', 'text-matches-tokens']) expect(verdict('chat-unicode', check)?.status, check).toBe('pass');
    // Item 13: llama-server honours seed: the same seed repeats and other seeds change the sample.
    expect(verdict('chat-seeded-sampling', 'seed')).toMatchObject({ status: 'pass' });
    // Item 15: tools are not rendered into this peer's prompt; the verdict says so instead of "confident flip".
    expect(verdict('tool-call-named', 'prompt-tokens')!.message).toMatch(/^the backend read \d+ prompt tokens, golden 356/);
    expect(verdict('tool-call-named', 'greedy-divergence')?.status).toBe('skip');
    // Item 9: llama-server names the model by its path and gives no sha256: a different name across engines decides nothing.
    expect(verdict('chat-hello', 'model')?.status).not.toBe('fail');
  }, 240_000);
});
