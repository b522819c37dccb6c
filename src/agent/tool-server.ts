// The tools an agent case calls, served over loopback HTTP. Every answer is a pure function of the
// arguments (and, for book_table, of how many bookings came before), so two runs of a case with the
// same seed see the same tool results. book_table has a side effect, which is what makes retries
// dangerous: the ledger counts how often each side effect was really applied.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the ledger knows about the side effects applied under one idempotency key. */
export interface SideEffectEntry {
  idempotencyKey: string;
  tool: string;
  /** The logical call the client said this was (`X-Conform-Call`), when it said. */
  call?: string;
  applied: number;
}

/** One logical call (same call id, tool and arguments) whose side effect was applied more than once, under any keys. */
export interface DuplicatedCall {
  call: string;
  tool: string;
  keys: string[];
  applied: number;
}

/** The tool server's record of side effects: per key, and per logical call to catch a client that changes keys on retry. */
export interface ToolLedger {
  /** Requests that reached a tool, whatever their outcome. */
  readonly requests: number;
  /** Side effects by idempotency key; `applied` above 1 means the key failed to protect the call. */
  sideEffects(): SideEffectEntry[];
  /** Logical calls applied more than once: a retry carried a fresh key, so the server could not recognise it. */
  duplicatedCalls(): DuplicatedCall[];
}

/** A running tool server: its address, its ledger of side effects, and how to stop it. */
export interface ToolServer {
  /** Base URL, `http://127.0.0.1:<port>`; tools are at `POST /tools/<name>`. */
  url: string;
  ledger: ToolLedger;
  close(): Promise<void>;
}

type Args = Record<string, unknown>;
type ToolAnswer = { status: number; body: unknown };

// Fixed so that get_time is reproducible: a tool that read the clock would make every golden stale.
const REFERENCE_INSTANT = new Date('2025-01-01T12:00:00Z');
const MAX_BODY_BYTES = 64 * 1024;
const SKIES = ['clear', 'cloudy', 'rain', 'fog', 'wind', 'snow'];

// FNV-1a: a stable string hash, so a city's weather is the same on every machine and every run.
function hashText(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

// Key order must not make two identical calls look different.
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Args)[k])}`).join(',')}}`;
  return JSON.stringify(value);
}

const bad = (message: string): ToolAnswer => ({ status: 400, body: { error: message } });

function text(args: Args, name: string): string | ToolAnswer {
  const value = args[name];
  return typeof value === 'string' && value.trim() !== '' && value.length <= 100 ? value : bad(`${name} must be a non-empty string of at most 100 characters`);
}

function integer(args: Args, name: string, min: number, max: number): number | ToolAnswer {
  const value = args[name];
  return Number.isInteger(value) && (value as number) >= min && (value as number) <= max ? (value as number) : bad(`${name} must be an integer from ${min} to ${max}`);
}

function getWeather(args: Args): ToolAnswer {
  const city = text(args, 'city');
  if (typeof city !== 'string') return city;
  const days = integer(args, 'days', 1, 14);
  if (typeof days !== 'number') return days;
  const h = hashText(city.toLowerCase());
  const forecast = Array.from({ length: days }, (_, i) => {
    const d = hashText(`${h}:${i}`);
    const low = (d % 25) - 5;
    return { day: i + 1, low_c: low, high_c: low + 3 + ((d >>> 8) % 10), sky: SKIES[(d >>> 16) % SKIES.length] };
  });
  return { status: 200, body: { city, forecast } };
}

function getTime(args: Args): ToolAnswer {
  const timezone = text(args, 'timezone');
  if (typeof timezone !== 'string') return timezone;
  let local: string;
  try {
    local = new Intl.DateTimeFormat('sv-SE', { timeZone: timezone, dateStyle: 'short', timeStyle: 'medium' }).format(REFERENCE_INSTANT);
  } catch {
    return bad(`unknown timezone ${JSON.stringify(timezone)}`);
  }
  return { status: 200, body: { timezone, local_time: local, utc: REFERENCE_INSTANT.toISOString() } };
}

/** Starts the tool server on a free loopback port. */
export async function startToolServer(): Promise<ToolServer> {
  let requests = 0;
  let bookings = 0;
  // What a key was first used for and what it answered: a replay gets the stored answer, not a second booking.
  const byKey = new Map<string, { fingerprint: string; tool: string; call?: string; answer: ToolAnswer; applied: number }>();
  // Logical call → keys seen and applications, to expose clients that send a fresh key on every retry.
  const byCall = new Map<string, { tool: string; keys: Set<string>; applied: number }>();

  function bookTable(args: Args, key: string | undefined, call: string | undefined): ToolAnswer {
    const city = text(args, 'city');
    if (typeof city !== 'string') return city;
    const partySize = integer(args, 'party_size', 1, 20);
    if (typeof partySize !== 'number') return partySize;
    // Without a key a lost answer cannot be retried safely, so the server refuses rather than guessing.
    if (key === undefined) return bad('book_table has a side effect and needs an Idempotency-Key header');
    const fingerprint = `book_table ${canonical(args)}`;
    const stored = byKey.get(key);
    if (stored) {
      if (stored.fingerprint !== fingerprint) return { status: 422, body: { error: `Idempotency-Key ${key} was already used for different arguments` } };
      return stored.answer;
    }
    bookings++;
    const answer: ToolAnswer = { status: 200, body: { confirmation: `BK-${String(bookings).padStart(4, '0')}`, city, party_size: partySize } };
    byKey.set(key, { fingerprint, tool: 'book_table', ...(call !== undefined ? { call } : {}), answer, applied: 1 });
    if (call !== undefined) {
      const logical = `${call} ${fingerprint}`;
      const seen = byCall.get(logical) ?? { tool: 'book_table', keys: new Set<string>(), applied: 0 };
      seen.keys.add(key);
      seen.applied++;
      byCall.set(logical, seen);
    }
    return answer;
  }

  function dispatch(tool: string, args: Args, key: string | undefined, call: string | undefined): ToolAnswer {
    if (tool === 'get_weather') return getWeather(args);
    if (tool === 'get_time') return getTime(args);
    if (tool === 'book_table') return bookTable(args, key, call);
    return { status: 404, body: { error: `no tool named ${JSON.stringify(tool)}; tools: get_weather, get_time, book_table` } };
  }

  function reply(res: ServerResponse, answer: ToolAnswer): void {
    const payload = Buffer.from(JSON.stringify(answer.body));
    // One request per connection: the fault proxy draws its faults per connection.
    res.writeHead(answer.status, { 'content-type': 'application/json', 'content-length': payload.length, connection: 'close' });
    res.end(payload);
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const match = /^\/tools\/([A-Za-z0-9_-]{1,64})$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !match) {
      req.resume();
      return reply(res, { status: 404, body: { error: 'tools are called with POST /tools/<name>' } });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    // A request cut off mid-body never reaches a tool: a half-received booking is not a booking.
    req.on('end', () => {
      if (tooLarge) return reply(res, { status: 413, body: { error: `body over ${MAX_BODY_BYTES} bytes` } });
      requests++;
      let args: unknown;
      try {
        args = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return reply(res, bad('body must be the tool arguments as a JSON object'));
      }
      if (args === null || typeof args !== 'object' || Array.isArray(args)) return reply(res, bad('body must be the tool arguments as a JSON object'));
      const header = (name: string): string | undefined => {
        const value = req.headers[name];
        return typeof value === 'string' && value !== '' ? value : undefined;
      };
      reply(res, dispatch(match[1]!, args as Args, header('idempotency-key'), header('x-conform-call')));
    });
    req.on('error', () => undefined);
  }

  const server = createServer(handle);
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const ledger: ToolLedger = {
    get requests() {
      return requests;
    },
    sideEffects: () => [...byKey].map(([idempotencyKey, e]) => ({ idempotencyKey, tool: e.tool, ...(e.call !== undefined ? { call: e.call } : {}), applied: e.applied })),
    duplicatedCalls: () =>
      [...byCall].filter(([, c]) => c.applied > 1).map(([call, c]) => ({ call, tool: c.tool, keys: [...c.keys], applied: c.applied })),
  };

  return {
    url: `http://127.0.0.1:${port}`,
    ledger,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
