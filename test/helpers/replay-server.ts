// A loopback HTTP server that answers with exact bytes over a raw socket. Node's http module would
// re-frame bodies and fix headers; the tests need the wire as recorded, or broken on purpose.

import { readFileSync } from 'node:fs';
import net from 'node:net';

/** What to do with one incoming request, in order of arrival. */
export type ReplayStep =
  | {
      /** Response bytes written as given; `file` reads them from disk (e.g. a `.response.http`). */
      bytes?: Uint8Array;
      file?: string;
      /** Byte offsets at which to split the writes, to test re-assembly. */
      splitAt?: number[];
      /** Pause between pieces, so the client sees them as separate reads. */
      delayMs?: number;
      /** After writing: keep the connection for the next request (default), close it, reset it, or go silent. */
      then?: 'keep-open' | 'end' | 'reset' | 'hang';
    }
  | { action: 'reset' }
  | { action: 'hang' };

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface ReplayServer {
  /** `http://127.0.0.1:PORT/v1`, the shape runners expect. */
  baseUrl: string;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

function pieces(bytes: Uint8Array, splitAt: number[] | undefined): Uint8Array[] {
  const cuts = [...new Set(splitAt ?? [])].filter((n) => n > 0 && n < bytes.length).sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    out.push(bytes.subarray(start, cut));
    start = cut;
  }
  return out;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => (ms > 0 ? setTimeout(resolve, ms) : setImmediate(resolve)));

/** Starts a server on 127.0.0.1, port 0, that answers successive requests with successive steps. */
export async function startReplayServer(steps: ReplayStep[]): Promise<ReplayServer> {
  const requests: ReceivedRequest[] = [];
  const sockets = new Set<net.Socket>();
  let next = 0;

  async function answer(socket: net.Socket): Promise<void> {
    const step = steps[next++];
    if (!step) {
      socket.end('HTTP/1.1 599 Replay Script Exhausted\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if ('action' in step) {
      if (step.action === 'reset') socket.resetAndDestroy();
      return;
    }
    const bytes = step.bytes ?? new Uint8Array(readFileSync(step.file ?? ''));
    for (const piece of pieces(bytes, step.splitAt)) {
      if (socket.destroyed) return;
      socket.write(piece);
      await pause(step.delayMs ?? 0);
    }
    if (step.then === 'end') socket.end();
    else if (step.then === 'reset') socket.resetAndDestroy();
  }

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = Buffer.alloc(0);
    // Requests on one keep-alive connection are answered strictly in turn.
    let queue = Promise.resolve();
    socket.on('data', (data: Buffer) => {
      buffered = Buffer.concat([buffered, data]);
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end === -1) return;
        const [requestLine = '', ...lines] = buffered.subarray(0, end).toString('latin1').split('\r\n');
        const headers: Record<string, string> = {};
        for (const line of lines) {
          const colon = line.indexOf(':');
          headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
        }
        const length = Number(headers['content-length'] ?? 0);
        if (buffered.length < end + 4 + length) return;
        const [method = '', path = ''] = requestLine.split(' ');
        requests.push({ method, path, headers, body: buffered.subarray(end + 4, end + 4 + length).toString('utf8') });
        buffered = buffered.subarray(end + 4 + length);
        queue = queue.then(() => answer(socket));
      }
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
