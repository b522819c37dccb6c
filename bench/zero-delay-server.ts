// A zero-delay OpenAI-compatible server for the throughput and scaling benchmarks, run as its own process
// (bench/zero-delay.ts forks it) so that the client being measured never shares its event loop.
//
//   POST /v1/chat/completions   a fixed 16-token answer at once: streamed (role chunk, one chunk per token,
//                               a finish chunk, a usage chunk, [DONE], all in one write) or as one JSON body
//   GET  /v1/models             one model, 'bench', with a context size (what conform's identity probe reads)
//   anything else               404 (conform's /metrics scrape and other probes take that as "not offered")
//
// Both answers are built once, so the server spends on each request only what parsing the request costs:
// whatever limits the rate is the client. It counts the chat requests it answers and when the first arrived
// and the last was answered, and tells its parent over IPC: { type: 'stats', reset? } is answered with a
// ZeroDelayStats. Run on its own (npx tsx bench/zero-delay-server.ts [port]) it prints its port and serves on.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

// Nothing but types may be imported from this file: importing it starts a server.

/** The answer's tokens: 16, what max_tokens 16 allows. */
export const ANSWER_TOKENS = ['Hello', ' from', ' the', ' zero', '-delay', ' bench', ' server', ':', ' a', ' fixed', ' answer', ' of', ' sixteen', ' tokens', ' exactly', '.'];
export const MODEL = 'bench';
const PROMPT_TOKENS = 12;

export interface ZeroDelayReady {
  type: 'ready';
  port: number;
}

export interface ZeroDelayStats {
  type: 'stats';
  /** Chat requests answered since the last reset. */
  requests: number;
  streamed: number;
  /** performance.timeOrigin + now() of the first chat request's arrival and of the last answer's end, ms since the epoch. */
  firstArrivalMs: number | null;
  lastEndMs: number | null;
  /** Requests to other paths (probes, metrics scrapes), answered 404 or with the model list. */
  other: number;
}

const usage = { prompt_tokens: PROMPT_TOKENS, completion_tokens: ANSWER_TOKENS.length, total_tokens: PROMPT_TOKENS + ANSWER_TOKENS.length };
const base = { id: 'chatcmpl-bench', created: 0, model: MODEL };
const sse = (payload: unknown) => `data: ${JSON.stringify(payload)}\n\n`;
const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) => sse({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finishReason }] });

const STREAMED = Buffer.from(
  [
    chunk({ role: 'assistant', content: '' }),
    ...ANSWER_TOKENS.map((token) => chunk({ content: token })),
    chunk({}, 'length'),
    sse({ ...base, object: 'chat.completion.chunk', choices: [], usage }),
    'data: [DONE]\n\n',
  ].join(''),
);
const WHOLE = Buffer.from(
  JSON.stringify({ ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: ANSWER_TOKENS.join('') }, finish_reason: 'length' }], usage }),
);
const MODELS = Buffer.from(JSON.stringify({ object: 'list', data: [{ id: MODEL, object: 'model', created: 0, owned_by: 'bench', meta: { context_size: 4096 } }] }));

const now = () => performance.timeOrigin + performance.now();
let stats: ZeroDelayStats = { type: 'stats', requests: 0, streamed: 0, firstArrivalMs: null, lastEndMs: null, other: 0 };

function answerChat(req: http.IncomingMessage, res: http.ServerResponse, arrival: number): void {
  const parts: Buffer[] = [];
  req.on('data', (part: Buffer) => parts.push(part));
  req.on('end', () => {
    let streamed = false;
    try {
      streamed = (JSON.parse(Buffer.concat(parts).toString('utf8')) as { stream?: unknown }).stream === true;
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"message":"the body is not JSON","type":"invalid_request_error"}}');
      return;
    }
    const body = streamed ? STREAMED : WHOLE;
    res.writeHead(200, { 'content-type': streamed ? 'text/event-stream' : 'application/json', 'content-length': body.length });
    res.end(body);
    stats.requests++;
    if (streamed) stats.streamed++;
    stats.firstArrivalMs ??= arrival;
    stats.lastEndMs = now();
  });
}

const server = http.createServer({ noDelay: true, keepAliveTimeout: 60_000 }, (req, res) => {
  const arrival = now();
  const path = (req.url ?? '').split('?')[0];
  if (req.method === 'POST' && path === '/v1/chat/completions') return answerChat(req, res, arrival);
  stats.other++;
  req.resume();
  if (req.method === 'GET' && path === '/v1/models') {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': MODELS.length }).end(MODELS);
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
});

process.on('message', (message: { type?: string; reset?: boolean }) => {
  if (message.type !== 'stats') return;
  process.send?.(stats);
  if (message.reset) stats = { type: 'stats', requests: 0, streamed: 0, firstArrivalMs: null, lastEndMs: null, other: 0 };
});
process.on('disconnect', () => process.exit(0));

server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const port = (server.address() as AddressInfo).port;
  if (process.send) process.send({ type: 'ready', port } satisfies ZeroDelayReady);
  else process.stdout.write(`zero-delay server on http://127.0.0.1:${port}/v1\n`);
});
