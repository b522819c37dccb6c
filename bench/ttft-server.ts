// The SSE server of the TTFT accuracy benchmark, run as a child process so that its timers and writes never
// share an event loop with the clients being measured. It tells its parent its port over IPC.
//
// POST /d/<delay>/v1/chat/completions answers like an OpenAI-compatible streaming server:
//   headers and a role-only chunk at once; after <delay> ms the first content chunk; CHUNKS − 1 more content
//   chunks GAP_MS apart; a usage chunk that carries the truth; [DONE].
// The truth is `server_first_content_ms`: from the request's arrival ('request' event, headers parsed) to
// the moment `write` of the first content chunk returned, i.e. the bytes were in the kernel's socket buffer.
// It rides twice in the usage chunk: as a top-level field (the bare client reads it) and inside `timings`,
// which the runner keeps as Sample.serverTimings as it does llama.cpp's, so the measured and the true figure
// of one request arrive together and need no matching by id.

import http from 'node:http';
import type { AddressInfo } from 'node:net';

// Nothing but types may be imported from this file: importing it starts a server.
const CHUNKS = 5;
const GAP_MS = 1;

export interface ServerReady {
  port: number;
  contentChunks: number;
  gapMs: number;
}

function event(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

function chunk(delta: Record<string, unknown>, finishReason: string | null = null): string {
  return event({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 0, model: 'bench', choices: [{ index: 0, delta, finish_reason: finishReason }] });
}

const ms = (from: bigint, to: bigint): number => Number(to - from) / 1e6;

const server = http.createServer({ noDelay: true, keepAliveTimeout: 60_000 }, (req, res) => {
  const arrival = process.hrtime.bigint();
  req.resume();
  const match = /^\/d\/(\d+)\/v1\/chat\/completions$/.exec(req.url ?? '');
  if (req.method !== 'POST' || !match) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  const delayMs = Number(match[1]);
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  // Headers go out with the first write; a role-only chunk is what real servers send first, and must not count.
  res.write(chunk({ role: 'assistant', content: '' }));
  const roleWritten = process.hrtime.bigint();

  setTimeout(() => {
    res.write(chunk({ content: 'tok0 ' }));
    const firstContent = process.hrtime.bigint();
    let sent = 1;
    const next = (): void => {
      if (res.destroyed) return;
      if (sent < CHUNKS) {
        res.write(chunk({ content: `tok${sent} ` }, sent === CHUNKS - 1 ? 'stop' : null));
        sent++;
        setTimeout(next, GAP_MS);
        return;
      }
      const truth = ms(arrival, firstContent);
      res.write(
        event({
          id: 'chatcmpl-bench',
          object: 'chat.completion.chunk',
          created: 0,
          model: 'bench',
          choices: [],
          usage: { prompt_tokens: 3, completion_tokens: CHUNKS, total_tokens: 3 + CHUNKS },
          timings: { server_first_content_ms: truth, server_role_ms: ms(arrival, roleWritten) },
          server_first_content_ms: truth,
        }),
      );
      res.end('data: [DONE]\n\n');
    };
    setTimeout(next, GAP_MS);
  }, delayMs);
});

server.on('connection', (socket) => socket.setNoDelay(true));
server.listen(0, '127.0.0.1', () => {
  const ready: ServerReady = { port: (server.address() as AddressInfo).port, contentChunks: CHUNKS, gapMs: GAP_MS };
  process.send?.(ready);
});
process.on('disconnect', () => process.exit(0));
