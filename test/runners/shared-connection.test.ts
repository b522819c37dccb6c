// One keep-alive pool per backend: the identity probe opens the connection, and the cases reuse it, so the first
// case's TTFT holds no TCP connect. Counted on a loopback server that counts the connections it accepts.

import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import type { Case } from '../../src/core/types.ts';
import { createConnectionPool } from '../../src/runners/connection-pool.ts';
import { createOpenAiHttpRunner } from '../../src/runners/openai-http-runner.ts';
import { probeIdentity } from '../../src/runners/probe-identity.ts';
import { conform, makeProject } from '../helpers/conform-cli.ts';
import { startFixtureServer, type FixtureServer } from './support/fixture-server.ts';

const hello: Case = { id: 'hello', endpoint: 'chat', messages: [{ role: 'user', content: 'Hello' }], params: { max_tokens: 1, temperature: 0 }, checks: [] };

let server: FixtureServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function stats(origin: string): Promise<{ connections: number; requests: string[] }> {
  const res = await request(`${origin}/stats`);
  return (await res.body.json()) as { connections: number; requests: string[] };
}

describe('the connection pool', () => {
  it('serves the probe and every case of a backend over one connection', async () => {
    server = await startFixtureServer('counting-server.mjs');
    const pool = createConnectionPool();
    try {
      const identity = await probeIdentity(server.baseUrl, undefined, { dispatcher: pool });
      expect(identity).toMatchObject({ model: 'counted', contextSize: 2048 });
      const runner = createOpenAiHttpRunner({ backend: 'counted', baseUrl: server.baseUrl, model: 'counted', dispatcher: pool });
      for (let i = 0; i < 3; i++) expect((await runner.run(hello)).kind).toBe('ok');
    } finally {
      await pool.close();
    }
    expect(await stats(server.origin)).toEqual({ connections: 1, requests: ['GET /v1/models', 'POST /v1/chat/completions', 'POST /v1/chat/completions', 'POST /v1/chat/completions'] });
  });

  it('is what conform record and run use (execute-run): probe and cases share one connection', async () => {
    server = await startFixtureServer('counting-server.mjs');
    const suite = ['suite: counted', 'description: two plain cases', 'defaults:', '  params: { max_tokens: 1, temperature: 0 }', 'cases:', '  - id: one', '    messages: [{ role: user, content: One }]', '    checks: [{ kind: exact }]', '  - id: two', '    messages: [{ role: user, content: Two }]', '    checks: [{ kind: exact }]', ''].join('\n');
    const project = makeProject([], {
      'conform.config.yaml': `backends: [{ name: counted, class: cpu, model: counted, baseUrl: "${server.baseUrl}" }]\nsuites: ["*.suite.yaml"]\n`,
      'counted.suite.yaml': suite,
    });
    const result = await conform(['record', '--backend', 'counted', '--suite', 'counted'], { cwd: project, timeout: 60_000 });
    expect(result.exitCode, result.stderr).toBe(0);
    const seen = await stats(server.origin);
    expect(seen.requests.filter((r) => r.startsWith('POST'))).toHaveLength(2);
    expect(seen.connections).toBe(1);
  }, 60_000);
});
