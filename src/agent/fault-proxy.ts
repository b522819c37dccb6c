// A TCP proxy that damages what a server sends back, the way Shopify's Toxiproxy does (latency, bandwidth,
// slow_close, timeout, reset_peer, slicer, limit_data), plus two HTTP-level faults a rate-limited API shows
// (429 with Retry-After, 503). Only the downstream direction is damaged: the request always arrives whole,
// so a tool with a side effect may well have run when the client loses its answer, which is exactly the case
// idempotency keys exist for.
//
// One connection carries one request (the tool server answers `Connection: close`), so "request n" is the
// n-th connection that sent data. Each request draws its faults from a PRNG forked from the seed by request
// number: the schedule depends on the seed and the request count only, never on timing or chunk boundaries.

import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { FaultSpec } from '../core/types.ts';
import { createSeededRandom, type SeededRandom } from '../core/seeded-random.ts';
import { abortableSleep } from '../runners/abortable-sleep.ts';

/** Where the proxy forwards to, what it injects, and the seed that fixes every draw. */
export interface FaultProxyOptions {
  /** The server behind the proxy, `http://127.0.0.1:<port>`; only loopback targets are accepted. */
  target: string;
  faults: FaultSpec[];
  seed: number;
}

/** One fault applied to one request, with the drawn parameters that make it reproducible. */
export interface FaultEvent {
  request: number;
  fault: string;
  detail?: string;
}

/** A running proxy: its address, the faults it has applied so far, and how to stop it. */
export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: send the requests meant for the target here. */
  url: string;
  /** Every fault applied so far, in request order; grows while the proxy runs. */
  readonly schedule: readonly FaultEvent[];
  close(): Promise<void>;
}

// What one request suffers; drawn once, when its first byte arrives.
interface Plan {
  http?: { status: 429 | 503; retryAfterS?: number };
  latencyMs?: number;
  bytesPerSecond?: number;
  slowCloseMs?: number;
  /** Data is dropped; the connection closes after this many ms, or is held while the client waits when 0. */
  timeoutMs?: number;
  /** Data is dropped; the connection is reset this many ms after the answer starts. */
  resetMs?: number;
  slicer?: { average: number; variation: number; delayUs: number };
  limitBytes?: number;
  random: SeededRandom;
}

const TYPES = new Set<FaultSpec['type']>(['latency', 'bandwidth', 'slow_close', 'timeout', 'reset_peer', 'slicer', 'limit_data', 'http_429', 'http_503']);
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
// A request that never finishes its headers or body is answered anyway past this size, so memory stays bounded.
const MAX_REQUEST_BYTES = 1024 * 1024;

function parameter(fault: FaultSpec, name: string, fallback: number): number {
  const value = fault[name] ?? fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw new RangeError(`fault ${fault.type}: ${name} must be a number ≥ 0, got ${JSON.stringify(value)}`);
  return value;
}

// Faults are checked when the proxy starts, so a typo fails the case at once instead of silently injecting nothing.
function checkFaults(faults: FaultSpec[]): void {
  for (const fault of faults) {
    if (!TYPES.has(fault.type)) throw new RangeError(`unknown fault type ${JSON.stringify(fault.type)}; known: ${[...TYPES].join(', ')}`);
    const toxicity = fault.toxicity ?? 1;
    if (typeof toxicity !== 'number' || !(toxicity >= 0 && toxicity <= 1)) throw new RangeError(`fault ${fault.type}: toxicity must be within [0, 1], got ${JSON.stringify(fault.toxicity)}`);
    if (fault.type === 'bandwidth' && !(parameter(fault, 'rate', 0) > 0)) throw new RangeError('fault bandwidth: rate (KB/s) must be above 0');
    if (fault.type === 'slicer' && !(parameter(fault, 'average_size', 64) >= 1)) throw new RangeError('fault slicer: average_size must be at least 1 byte');
    for (const name of Object.keys(fault)) if (name !== 'type' && name !== 'toxicity') parameter(fault, name, 0);
  }
}

// Several faults of one type: latencies add up, for the others the last one applied wins.
function drawPlan(faults: FaultSpec[], random: SeededRandom, request: number, schedule: FaultEvent[]): Plan {
  const plan: Plan = { random };
  const record = (fault: string, detail: string): void => void schedule.push({ request, fault, detail });
  for (const fault of faults) {
    if (!random.chance(fault.toxicity ?? 1)) continue;
    switch (fault.type) {
      case 'latency': {
        const jitter = parameter(fault, 'jitter', 0);
        const ms = Math.max(0, Math.round(parameter(fault, 'latency', 0) + (random.next() * 2 - 1) * jitter));
        plan.latencyMs = (plan.latencyMs ?? 0) + ms;
        record('latency', `${ms} ms`);
        break;
      }
      case 'bandwidth': {
        const rate = parameter(fault, 'rate', 0);
        // Kilobytes as in Toxiproxy's documentation: 1 KB = 1000 bytes.
        plan.bytesPerSecond = rate * 1000;
        record('bandwidth', `${rate} KB/s`);
        break;
      }
      case 'slow_close':
        plan.slowCloseMs = parameter(fault, 'delay', 0);
        record('slow_close', `close delayed ${plan.slowCloseMs} ms`);
        break;
      case 'timeout':
        plan.timeoutMs = parameter(fault, 'timeout', 0);
        record('timeout', plan.timeoutMs === 0 ? 'answer dropped, connection held' : `answer dropped, closed after ${plan.timeoutMs} ms`);
        break;
      case 'reset_peer':
        plan.resetMs = parameter(fault, 'timeout', 0);
        record('reset_peer', `answer dropped, reset ${plan.resetMs} ms after it started`);
        break;
      case 'slicer': {
        const average = Math.round(parameter(fault, 'average_size', 64));
        const variation = Math.min(average - 1, Math.round(parameter(fault, 'size_variation', 0)));
        const delayUs = parameter(fault, 'delay', 0);
        plan.slicer = { average, variation, delayUs };
        record('slicer', `${average}±${variation} B slices, ${delayUs} µs apart`);
        break;
      }
      case 'limit_data':
        plan.limitBytes = Math.floor(parameter(fault, 'bytes', 0));
        record('limit_data', `closed after ${plan.limitBytes} B`);
        break;
      case 'http_429':
      case 'http_503': {
        // The first HTTP-level fault answers; a later one has nothing left to answer, so it is not recorded.
        if (plan.http) break;
        const status = fault.type === 'http_429' ? 429 : 503;
        const retryAfterS = fault.retry_after !== undefined || status === 429 ? Math.round(parameter(fault, 'retry_after', 1)) : undefined;
        plan.http = { status, ...(retryAfterS !== undefined ? { retryAfterS } : {}) };
        record(fault.type, retryAfterS !== undefined ? `Retry-After: ${retryAfterS}` : 'no Retry-After');
        break;
      }
    }
  }
  return plan;
}

function cannedAnswer(http: NonNullable<Plan['http']>): Buffer {
  const reason = http.status === 429 ? 'Too Many Requests' : 'Service Unavailable';
  const body = JSON.stringify({ error: { message: `${reason} (injected by conform's fault proxy)`, type: http.status === 429 ? 'rate_limit' : 'unavailable' } });
  const retryAfter = http.retryAfterS !== undefined ? `retry-after: ${http.retryAfterS}\r\n` : '';
  const head = `HTTP/1.1 ${http.status} ${reason}\r\ncontent-type: application/json\r\n${retryAfter}content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n`;
  return Buffer.from(head + body);
}

// Whether the bytes so far hold a whole HTTP request, so that a canned answer does not cut the client off mid-send.
function requestComplete(bytes: Buffer): boolean {
  if (bytes.length >= MAX_REQUEST_BYTES) return true;
  const headerEnd = bytes.indexOf('\r\n\r\n');
  if (headerEnd < 0) return false;
  const head = bytes.subarray(0, headerEnd).toString('latin1');
  const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
  if (length) return bytes.length >= headerEnd + 4 + Number(length[1]);
  if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(head)) return bytes.indexOf('\r\n0\r\n\r\n', headerEnd) >= 0;
  return true;
}

// Upstream bytes waiting to go down, each stamped with its arrival time so latency delays every chunk equally.
function chunkQueue() {
  const items: Array<{ chunk: Buffer; at: number }> = [];
  let ended = false;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    wake?.();
    wake = undefined;
  };
  return {
    push(chunk: Buffer): void {
      items.push({ chunk, at: performance.now() });
      notify();
    },
    end(): void {
      ended = true;
      notify();
    },
    async next(): Promise<{ chunk: Buffer; at: number } | undefined> {
      while (items.length === 0 && !ended) await new Promise<void>((resolve) => (wake = resolve));
      return items.shift();
    },
  };
}

/** Starts a fault-injecting TCP proxy on a free loopback port in front of `target`. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  if (!LOOPBACK.has(target.hostname)) throw new RangeError(`the fault proxy only fronts loopback servers, not ${target.hostname}`);
  const targetPort = Number(target.port || 80);
  const faults = options.faults;
  checkFaults(faults);
  const root = createSeededRandom(options.seed, 'fault-proxy');
  const schedule: FaultEvent[] = [];
  const teardowns = new Set<() => void>();
  let requests = 0;

  function onConnection(client: Socket): void {
    const abort = new AbortController();
    const { signal } = abort;
    const source = chunkQueue();
    let upstream: Socket | undefined;
    let plan: Plan | undefined;
    let pending = Buffer.alloc(0);
    let answered = false;

    const teardown = (): void => {
      if (signal.aborted) return;
      abort.abort();
      source.end();
      client.destroy();
      upstream?.destroy();
      teardowns.delete(teardown);
    };
    teardowns.add(teardown);
    client.on('error', teardown);
    client.on('close', teardown);

    // Every wait ends early when the connection goes, so no timer outlives its connection.
    const sleep = (ms: number): Promise<void> => abortableSleep(ms, signal);
    const until = (at: number): Promise<void> => sleep(at - performance.now());
    const write = (bytes: Buffer): Promise<void> =>
      new Promise((resolve) => (signal.aborted || client.destroyed ? resolve() : client.write(bytes, () => resolve())));
    const finish = (): void => {
      if (!signal.aborted) client.end(() => client.destroy());
    };

    async function pump(plan: Plan): Promise<void> {
      if (plan.resetMs !== undefined) {
        await source.next();
        await sleep(plan.resetMs);
        if (!signal.aborted) client.resetAndDestroy();
        return;
      }
      if (plan.timeoutMs !== undefined) {
        await source.next();
        if (plan.timeoutMs === 0) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        else await sleep(plan.timeoutMs);
        return finish();
      }
      let sent = 0;
      let paceStart: number | undefined;
      for (let item = await source.next(); item && !signal.aborted; item = await source.next()) {
        if (plan.latencyMs) await until(item.at + plan.latencyMs);
        for (let piece of slices(item.chunk, plan)) {
          if (plan.limitBytes !== undefined) piece = piece.subarray(0, Math.max(0, plan.limitBytes - sent));
          if (plan.bytesPerSecond) {
            // Paced against a clock started at the first byte, so timer overshoot does not add up.
            const step = Math.max(1, Math.floor(plan.bytesPerSecond / 20));
            for (let at = 0; at < piece.length && !signal.aborted; at += step) {
              paceStart ??= performance.now();
              const part = piece.subarray(at, at + step);
              await write(part);
              sent += part.length;
              await until(paceStart + (sent / plan.bytesPerSecond) * 1000);
            }
          } else if (piece.length > 0) {
            await write(piece);
            sent += piece.length;
          }
          if (plan.limitBytes !== undefined && sent >= plan.limitBytes) return finish();
          if (plan.slicer && plan.slicer.delayUs > 0) await sleep(plan.slicer.delayUs / 1000);
          if (signal.aborted) return;
        }
      }
      if (plan.slowCloseMs) await sleep(plan.slowCloseMs);
      finish();
    }

    function slices(chunk: Buffer, plan: Plan): Buffer[] {
      if (!plan.slicer) return [chunk];
      const out: Buffer[] = [];
      for (let at = 0; at < chunk.length; ) {
        const size = Math.max(1, plan.slicer.average + plan.random.int(-plan.slicer.variation, plan.slicer.variation));
        out.push(chunk.subarray(at, at + size));
        at += size;
      }
      return out;
    }

    function begin(first: Plan): void {
      pump(first).catch(teardown);
      if (first.http) return;
      upstream = createConnection({ host: target.hostname.replace(/^\[|\]$/g, ''), port: targetPort, allowHalfOpen: true });
      upstream.on('data', (chunk: Buffer) => source.push(chunk));
      // A failed or closed upstream ends the answer; the client sees whatever got through and a closed connection.
      upstream.on('end', () => source.end());
      upstream.on('error', () => source.end());
      upstream.on('close', () => source.end());
    }

    client.on('data', (chunk: Buffer) => {
      if (!plan) {
        plan = drawPlan(faults, root.fork('request', ++requests), requests, schedule);
        begin(plan);
      }
      if (!plan.http) return void upstream!.write(chunk);
      if (answered) return;
      pending = Buffer.concat([pending, chunk]);
      if (requestComplete(pending)) answer(plan.http);
    });
    // A client that half-closes has sent everything; the upstream may still answer.
    client.on('end', () => {
      if (!plan) teardown();
      else if (plan.http) answer(plan.http);
      else upstream?.end();
    });

    function answer(http: NonNullable<Plan['http']>): void {
      if (answered) return;
      answered = true;
      pending = Buffer.alloc(0);
      source.push(cannedAnswer(http));
      source.end();
    }
  }

  const server = createServer({ allowHalfOpen: true }, onConnection);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    schedule,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const teardown of [...teardowns]) teardown();
      }),
  };
}
