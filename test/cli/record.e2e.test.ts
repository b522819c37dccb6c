import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GoldenFile } from '../../src/core/types.ts';
import { freePort } from '../../src/launch/free-port.ts';
import { conform, makeProject, REPO } from '../helpers/conform-cli.ts';

// Two small suites against a server that answers plain chat, refuses streamed tools with logprobs
// (400, as llama-server does) and is busy (503) for one case; plus the real cold-warm suite, whose
// lifecycle cases a baseUrl backend cannot serve.
const SUITE_A = `suite: a
description: served, refused and unmeasurable cases
defaults: { params: { max_tokens: 8, temperature: 0 }, checks: [{ kind: exact }] }
cases:
  - { id: hello, messages: [{ role: user, content: Say hello. }] }
  - id: streamed-tools
    messages: [{ role: user, content: Weather? }]
    params:
      stream: true
      logprobs: true
      tools: [{ type: function, function: { name: get_weather, parameters: { type: object, properties: {} } } }]
`;
const SUITE_B = `suite: b
description: a served case and one that meets a busy server
defaults: { params: { max_tokens: 8, temperature: 0 }, checks: [{ kind: exact }] }
cases:
  - { id: hello, messages: [{ role: user, content: Say hello. }] }
  - { id: busy, messages: [{ role: user, content: Are you busy? }] }
`;
const OLD_B = `${JSON.stringify({ schemaVersion: 1, suite: 'b', provenance: { backend: 'picky', identity: {}, conformVersion: '0.0.1', recordedAt: '2026-01-01T00:00:00.000Z' }, samples: {} }, null, 2)}\n`;

let server: ResultPromise | undefined;
let baseUrl = '';

beforeAll(async () => {
  const port = await freePort();
  server = execa(process.execPath, [join(REPO, 'test', 'fixtures', 'servers', 'picky-server.mjs'), String(port)], { reject: false, stdin: 'ignore' });
  baseUrl = `http://127.0.0.1:${port}/v1`;
  for (let i = 0; i < 100; i++) {
    try {
      await (await request(`http://127.0.0.1:${port}/health`)).body.dump();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error('picky-server did not start');
});
afterAll(async () => {
  server?.kill('SIGTERM');
  await server;
});

function project(url: string): string {
  const dir = makeProject([], {
    'conform.config.yaml': `backends: [{ name: picky, class: cpu, model: picky, preset: llama-cpp, maxRetries: 1, baseUrl: "${url}" }]\nreference: picky\n`,
  });
  mkdirSync(join(dir, 'suites'));
  mkdirSync(join(dir, 'golden'));
  writeFileSync(join(dir, 'suites', 'a.yaml'), SUITE_A);
  writeFileSync(join(dir, 'suites', 'b.yaml'), SUITE_B);
  writeFileSync(join(dir, 'suites', 'cold-warm.yaml'), readFileSync(join(REPO, 'suites', 'cold-warm.yaml')));
  writeFileSync(join(dir, 'golden', 'b.json'), OLD_B);
  return dir;
}

const golden = (dir: string, suite: string) => JSON.parse(readFileSync(join(dir, 'golden', `${suite}.json`), 'utf8')) as GoldenFile;

describe('conform record', () => {
  it('writes what the backend served, lists what it cannot serve with the reason, and keeps a suite whose case failed to record', async () => {
    const dir = project(baseUrl);
    const result = await conform(['record'], { cwd: dir });
    expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(3);

    const a = golden(dir, 'a');
    expect(Object.keys(a.samples)).toEqual(['hello']);
    expect(a.provenance).toMatchObject({ backend: 'picky', identity: { model: 'picky' }, unsupported: { 'streamed-tools': 'HTTP 400: logprobs is not supported with tools + stream' } });
    const coldWarm = golden(dir, 'cold-warm');
    expect(coldWarm.samples).toEqual({});
    expect(coldWarm.provenance.unsupported).toEqual({
      'cold-start': 'conform does not launch picky, so it cannot measure its start',
      'warm-start': 'conform does not launch picky, so it cannot measure its start',
    });
    // A busy answer says nothing about what the backend can do: b's previous golden stays as it was.
    expect(readFileSync(join(dir, 'golden', 'b.json'), 'utf8')).toBe(OLD_B);

    expect(result.stdout.split('\n')).toEqual([
      `${join(dir, 'golden', 'a.json')}: 1 sample, 1 unsupported, from picky`,
      '  unsupported a/streamed-tools: HTTP 400: logprobs is not supported with tools + stream',
      `${join(dir, 'golden', 'cold-warm.json')}: 0 samples, 2 unsupported, from picky`,
      '  unsupported cold-warm/cold-start: conform does not launch picky, so it cannot measure its start',
      '  unsupported cold-warm/warm-start: conform does not launch picky, so it cannot measure its start',
    ]);
    const errLines = result.stderr.trim().split('\n');
    expect(errLines.slice(0, 2)).toEqual([`${join(dir, 'golden', 'b.json')}: left as it was: 1 case failed to record`, '  failed b/busy: HTTP 503: Loading model']);
    expect(errLines[2]).toMatch(/^conform record: 2 of 3 golden files written from picky; 1 left as it was because a case failed to record \(rerun; for timeouts raise requestTimeoutMs\)\. Samples: \S+$/);
    expect(errLines).toHaveLength(3);
  });

  it('exits 0 when every selected suite was written, unsupported cases included', async () => {
    const dir = project(baseUrl);
    const result = await conform(['record', '--suite', 'a', '--suite', 'cold-warm'], { cwd: dir });
    expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stderr).toBe('');
    expect(existsSync(join(dir, 'golden', 'a.json'))).toBe(true);
  });

  it('writes nothing and exits 3 with one line when the backend is unreachable', async () => {
    const port = await freePort();
    const dir = project(`http://127.0.0.1:${port}/v1`);
    const result = await conform(['record'], { cwd: dir });
    expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(new RegExp(`^conform record: picky unreachable: no answer from picky at http://127\\.0\\.0\\.1:${port}/v1/chat/completions: .*ECONNREFUSED.*; nothing written, golden left unchanged\\. Samples: \\S+$`));
    expect(existsSync(join(dir, 'golden', 'a.json'))).toBe(false);
    expect(existsSync(join(dir, 'golden', 'cold-warm.json'))).toBe(false);
    expect(readFileSync(join(dir, 'golden', 'b.json'), 'utf8')).toBe(OLD_B);
  });
});
