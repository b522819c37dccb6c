import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../../src/agent/fault-proxy.ts';
import type { FaultSpec } from '../../src/core/types.ts';

// An upstream that answers GET /bytes/<n> with n bytes, counting the requests that reached it.
let upstream: Server;
let target = '';
let reached = 0;

beforeAll(async () => {
  upstream = createServer((req, res) => {
    reached++;
    const n = Number(/^\/bytes\/(\d+)$/.exec(req.url ?? '')?.[1] ?? 16);
    const body = Buffer.alloc(n, 'x');
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': n, connection: 'close' });
    res.end(body);
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  target = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => upstream.close(() => resolve())));

interface Exchange {
  reads: Array<{ at: number; bytes: number }>;
  data: Buffer;
  endedBy: 'end' | 'reset' | 'error' | 'client-timeout';
  endAt: number;
  error?: string;
}

// A raw TCP client, so every read and the exact way the connection ended are visible.
function exchange(url: string, path: string, timeoutMs = 3000): Promise<Exchange> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const t0 = performance.now();
    const reads: Exchange['reads'] = [];
    const chunks: Buffer[] = [];
    const socket = connect({ host: '127.0.0.1', port: Number(port) });
    let done = false;
    const finish = (endedBy: Exchange['endedBy'], error?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ reads, data: Buffer.concat(chunks), endedBy, endAt: performance.now() - t0, ...(error ? { error } : {}) });
    };
    const timer = setTimeout(() => finish('client-timeout'), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      reads.push({ at: performance.now() - t0, bytes: chunk.length });
      chunks.push(chunk);
    });
    socket.on('end', () => finish('end'));
    socket.on('error', (err: NodeJS.ErrnoException) => finish(err.code === 'ECONNRESET' ? 'reset' : 'error', err.code));
    socket.write(`GET ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n`);
  });
}

const bodyOf = (data: Buffer): string => data.toString('latin1').split('\r\n\r\n').slice(1).join('\r\n\r\n');

async function withProxy<T>(faults: FaultSpec[], seed: number, use: (proxy: FaultProxy) => Promise<T>): Promise<T> {
  const proxy = await startFaultProxy({ target, faults, seed });
  try {
    return await use(proxy);
  } finally {
    await proxy.close();
  }
}

describe('fault proxy', () => {
  it('passes answers through untouched without faults', async () => {
    await withProxy([], 1, async (proxy) => {
      const got = await exchange(proxy.url, '/bytes/500');
      expect(got.endedBy).toBe('end');
      expect(bodyOf(got.data)).toBe('x'.repeat(500));
      expect(proxy.schedule).toEqual([]);
    });
  });

  it('latency delays the answer by at least latency − jitter, by the amount it records', async () => {
    await withProxy([{ type: 'latency', latency: 200, jitter: 50 }], 3, async (proxy) => {
      const got = await exchange(proxy.url, '/bytes/64');
      const drawn = Number(/^(\d+) ms$/.exec(proxy.schedule[0]!.detail!)![1]);
      expect(drawn).toBeGreaterThanOrEqual(150);
      expect(drawn).toBeLessThanOrEqual(250);
      expect(got.reads[0]!.at).toBeGreaterThanOrEqual(150);
      expect(got.reads[0]!.at).toBeGreaterThanOrEqual(drawn - 1);
      expect(bodyOf(got.data)).toHaveLength(64);
    });
  });

  it('bandwidth paces the answer at its rate', async () => {
    // 3000 bytes of body plus headers at 10 KB/s (10,000 B/s) take at least 300 ms.
    await withProxy([{ type: 'bandwidth', rate: 10 }], 1, async (proxy) => {
      const got = await exchange(proxy.url, '/bytes/3000');
      expect(bodyOf(got.data)).toHaveLength(3000);
      expect(got.reads.at(-1)!.at - got.reads[0]!.at).toBeGreaterThanOrEqual(250);
      expect(got.endAt).toBeGreaterThanOrEqual(300);
    });
  });

  it('slicer delivers the answer in several small reads, intact', async () => {
    await withProxy([{ type: 'slicer', average_size: 100, size_variation: 20, delay: 5000 }], 1, async (proxy) => {
      const got = await exchange(proxy.url, '/bytes/1000');
      expect(bodyOf(got.data)).toBe('x'.repeat(1000));
      expect(got.reads.length).toBeGreaterThanOrEqual(5);
      expect(proxy.schedule[0]).toMatchObject({ request: 1, fault: 'slicer' });
    });
  });

  it('limit_data truncates the answer at the byte limit and closes', async () => {
    await withProxy([{ type: 'limit_data', bytes: 100 }], 1, async (proxy) => {
      const got = await exchange(proxy.url, '/bytes/1000');
      expect(got.data.length).toBe(100);
      expect(got.endedBy).toBe('end');
    });
  });

  it('reset_peer resets the connection after the request reached the server', async () => {
    await withProxy([{ type: 'reset_peer', timeout: 0 }], 1, async (proxy) => {
      const before = reached;
      const got = await exchange(proxy.url, '/bytes/64');
      expect(got.endedBy).toBe('reset');
      expect(got.data.length).toBe(0);
      expect(reached).toBe(before + 1);
    });
  });

  it('timeout 0 holds the connection silent until the client gives up', async () => {
    await withProxy([{ type: 'timeout', timeout: 0 }], 1, async (proxy) => {
      const got = await exchange(proxy.url, '/bytes/64', 400);
      expect(got.endedBy).toBe('client-timeout');
      expect(got.endAt).toBeGreaterThanOrEqual(399);
      expect(got.data.length).toBe(0);
    });
  });

  it('timeout with a duration drops the answer and closes after it', async () => {
    await withProxy([{ type: 'timeout', timeout: 200 }], 1, async (proxy) => {
      const got = await exchange(proxy.url, '/bytes/64', 3000);
      expect(got.endedBy).toBe('end');
      expect(got.data.length).toBe(0);
      expect(got.endAt).toBeGreaterThanOrEqual(199);
    });
  });

  it('slow_close delivers the answer, then holds the close back', async () => {
    await withProxy([{ type: 'slow_close', delay: 300 }], 1, async (proxy) => {
      const got = await exchange(proxy.url, '/bytes/64');
      expect(bodyOf(got.data)).toHaveLength(64);
      expect(got.endedBy).toBe('end');
      expect(got.endAt - got.reads.at(-1)!.at).toBeGreaterThanOrEqual(290);
    });
  });

  it('http_429 answers with Retry-After and never forwards; http_503 answers 503', async () => {
    await withProxy([{ type: 'http_429', retry_after: 2 }], 1, async (proxy) => {
      const before = reached;
      const got = await exchange(proxy.url, '/bytes/64');
      const head = got.data.toString('latin1');
      expect(head).toMatch(/^HTTP\/1\.1 429 /);
      expect(head).toMatch(/\r\nretry-after: 2\r\n/i);
      expect(reached).toBe(before);
      expect(proxy.schedule).toEqual([{ request: 1, fault: 'http_429', detail: 'Retry-After: 2' }]);
    });
    await withProxy([{ type: 'http_503' }], 1, async (proxy) => {
      const got = await exchange(proxy.url, '/bytes/64');
      expect(got.data.toString('latin1')).toMatch(/^HTTP\/1\.1 503 /);
    });
  });

  it('never applies a fault of toxicity 0', async () => {
    await withProxy([{ type: 'reset_peer', toxicity: 0 }], 1, async (proxy) => {
      for (let i = 0; i < 5; i++) expect((await exchange(proxy.url, '/bytes/8')).endedBy).toBe('end');
      expect(proxy.schedule).toEqual([]);
    });
  });

  it('draws the same schedule for the same seed and another for another seed', async () => {
    const faults: FaultSpec[] = [
      { type: 'latency', latency: 4, jitter: 4, toxicity: 0.5 },
      { type: 'http_429', retry_after: 0, toxicity: 0.5 },
      { type: 'reset_peer', timeout: 0, toxicity: 0.3 },
    ];
    const scheduleFor = (seed: number) =>
      withProxy(faults, seed, async (proxy) => {
        for (let i = 0; i < 12; i++) await exchange(proxy.url, '/bytes/8');
        return [...proxy.schedule];
      });
    const first = await scheduleFor(42);
    expect(first.length).toBeGreaterThan(0);
    expect(await scheduleFor(42)).toEqual(first);
    expect(await scheduleFor(43)).not.toEqual(first);
  });

  it('rejects unknown faults, bad parameters and targets off loopback', async () => {
    await expect(startFaultProxy({ target, faults: [{ type: 'jitter' } as unknown as FaultSpec], seed: 1 })).rejects.toThrow(/unknown fault type/);
    await expect(startFaultProxy({ target, faults: [{ type: 'latency', latency: -1 }], seed: 1 })).rejects.toThrow(/latency must be a number ≥ 0/);
    await expect(startFaultProxy({ target, faults: [{ type: 'http_429', toxicity: 2 }], seed: 1 })).rejects.toThrow(/toxicity/);
    await expect(startFaultProxy({ target: 'http://10.0.0.1:80', faults: [], seed: 1 })).rejects.toThrow(/loopback/);
  });
});
