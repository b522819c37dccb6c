// The scraper against real loopback servers: before, during and after; an endpoint that does not exist
// is asked once; a refused connection and an oversized body are failed scrapes with the reason.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { scrapeOnce, startMetricsScraper } from '../../src/telemetry/metrics/metrics-scraper.ts';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
});

async function serve(handler: (count: number, headers: Record<string, unknown>) => { status: number; body: string }): Promise<{ url: string; hits: () => number }> {
  let hits = 0;
  const server = createServer((req, res) => {
    const { status, body } = handler(++hits, req.headers);
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(body);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`, hits: () => hits };
}

describe('startMetricsScraper', () => {
  it('scrapes once before resolving, periodically while running, and once more when stopped', async () => {
    const server = await serve((n, headers) => ({ status: 200, body: `llamacpp:requests_deferred ${n}\nauth_seen ${headers.authorization === 'Bearer k' ? 1 : 0}\n` }));
    const scraper = await startMetricsScraper({ url: server.url, intervalMs: 20, headers: { authorization: 'Bearer k' } });
    expect(server.hits()).toBe(1);
    // However slow the machine, wait for two periodic scrapes rather than for a time.
    while (server.hits() < 3) await sleep(10);
    const scrapes = await scraper.stop();
    expect(scrapes.length).toBe(server.hits());
    expect(scrapes.length).toBeGreaterThanOrEqual(4);
    expect(scrapes.map((s) => s.parsed!.samples[0]!.value)).toEqual(scrapes.map((_, i) => i + 1));
    expect(scrapes.every((s) => s.parsed!.samples[1]!.value === 1)).toBe(true);
    const times = scrapes.map((s) => s.t);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('an endpoint that does not exist is asked once, and says what to switch on', async () => {
    const server = await serve(() => ({ status: 501, body: 'This server does not support metrics endpoint.' }));
    const scraper = await startMetricsScraper({ url: server.url, intervalMs: 10 });
    await sleep(100);
    const scrapes = await scraper.stop();
    expect(server.hits()).toBe(1);
    expect(scrapes).toEqual([{ t: expect.any(Number), error: `HTTP 501 from ${server.url} (is the server started with its metrics switched on? llama-server needs --metrics, SGLang --enable-metrics)` }]);
  });
});

describe('scrapeOnce', () => {
  it('a refused connection and a body over the cap are failed scrapes, never throws', async () => {
    const refused = await scrapeOnce('http://127.0.0.1:9/metrics', { timeoutMs: 500 });
    expect(refused.error).toMatch(/^http:\/\/127\.0\.0\.1:9\/metrics: .*ECONNREFUSED/);
    const big = await serve(() => ({ status: 200, body: 'x 1\n'.repeat(1000) }));
    expect((await scrapeOnce(big.url, { maxBytes: 100 })).error).toBe(`${big.url} sent more than 100 bytes`);
    expect((await scrapeOnce('http://', {})).error).toMatch(/^http:\/\/: /);
  });
});
