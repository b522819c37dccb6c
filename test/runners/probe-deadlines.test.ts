// Identity probes and health polls against a server that sends its headers and then one byte a second on every
// GET: undici's per-read timers never trip, so only an overall deadline (or Ctrl-C) ends the wait.

import { afterEach, describe, expect, it } from 'vitest';
import { waitUntilAnswering } from '../../src/launch/wait-until-answering.ts';
import { probeIdentity } from '../../src/runners/probe-identity.ts';
import { conform, makeProject } from '../helpers/conform-cli.ts';
import { startFixtureServer, type FixtureServer } from './support/fixture-server.ts';

let server: FixtureServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

describe('probes against a server that dribbles a byte a second', () => {
  it('gives up on /v1/models at its overall deadline', async () => {
    server = await startFixtureServer('slowloris-server.mjs');
    const started = performance.now();
    expect(await probeIdentity(server.baseUrl, undefined, { timeoutMs: 1_500 })).toEqual({});
    const took = performance.now() - started;
    // Undici's per-read timers never trip at one byte a second; the overall deadline does.
    expect(took).toBeGreaterThanOrEqual(1_400);
    expect(took).toBeLessThan(5_000);
  });

  it('stops at once when the run is interrupted', async () => {
    server = await startFixtureServer('slowloris-server.mjs');
    const interrupt = new AbortController();
    setTimeout(() => interrupt.abort(), 200);
    const started = performance.now();
    expect(await probeIdentity(server.baseUrl, undefined, { signal: interrupt.signal })).toEqual({});
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('bounds a health poll whose body never ends: its 200 counts, after 2 s, not after the body', async () => {
    server = await startFixtureServer('slowloris-server.mjs');
    const started = performance.now();
    const outcome = await waitUntilAnswering({ baseUrl: server.baseUrl, model: 'm', healthPath: '/health', timeoutMs: 60_000, exited: new Promise(() => undefined) });
    const took = performance.now() - started;
    expect(outcome.state).toBe('ready');
    expect(took).toBeGreaterThanOrEqual(1_900);
    expect(took).toBeLessThan(6_000);
  });

  it('ends a health wait at once on Ctrl-C', async () => {
    server = await startFixtureServer('slowloris-server.mjs');
    const interrupt = new AbortController();
    setTimeout(() => interrupt.abort(), 200);
    const started = performance.now();
    const outcome = await waitUntilAnswering({ baseUrl: server.baseUrl, model: 'm', healthPath: '/health', timeoutMs: 60_000, exited: new Promise(() => undefined), signal: interrupt.signal });
    expect(outcome).toEqual({ state: 'failed', reason: 'interrupted' });
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('the first real answer of a launched server', () => {
  it('is bounded by the ready limit when the server sends headers and then nothing, and says which limit', async () => {
    server = await startFixtureServer('slowloris-server.mjs', ['silent']);
    const started = performance.now();
    // /health dribbles (a 200 after its 2 s poll), then the first chat request gets headers and silence.
    const outcome = await waitUntilAnswering({ baseUrl: server.baseUrl, model: 'm', healthPath: '/health', timeoutMs: 3_000, exited: new Promise(() => undefined) });
    expect(outcome).toEqual({ state: 'failed', reason: 'healthy, but no first answer within the 3000 ms ready limit (raise launch.readyTimeoutMs)' });
    expect(performance.now() - started).toBeLessThan(8_000);
  });
});

describe('conform run against a server whose /v1/models dribbles', () => {
  it('finishes a one-case run in seconds, with its result, instead of being held by the probe', async () => {
    server = await startFixtureServer('slowloris-server.mjs');
    const suite = ['suite: one', 'description: one case', 'cases:', '  - id: hello', '    messages: [{ role: user, content: Hello }]', '    params: { max_tokens: 1 }', '    checks: [{ kind: exact }]', ''].join('\n');
    const project = makeProject([], {
      'conform.config.yaml': `backends: [{ name: drip, class: cpu, model: m, baseUrl: "${server.baseUrl}" }]\nsuites: ["*.suite.yaml"]\n`,
      'one.suite.yaml': suite,
    });
    const started = performance.now();
    const result = await conform(['record', '--backend', 'drip'], { cwd: project, timeout: 60_000 });
    // The probe's 10 s deadline plus the CLI's own start; before, the run waited as long as the server dribbled.
    expect(performance.now() - started).toBeLessThan(45_000);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/golden\/one\.json/);
  }, 60_000);
});
