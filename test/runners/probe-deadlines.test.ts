// Identity probes and health polls against a server that sends its headers and then one byte a second on every
// GET: undici's per-read timers never trip, so only an overall deadline (or Ctrl-C) ends the wait.

import { afterEach, describe, expect, it } from 'vitest';
import { waitUntilAnswering } from '../../src/launch/wait-until-answering.ts';
import { probeIdentity } from '../../src/runners/probe-identity.ts';
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
