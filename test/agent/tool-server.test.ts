import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startToolServer, type ToolServer } from '../../src/agent/tool-server.ts';

let server: ToolServer;
beforeEach(async () => {
  server = await startToolServer();
});
afterEach(() => server.close());

async function call(tool: string, args: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server.url}/tools/${tool}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(args) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('tool server', () => {
  it('answers get_weather and get_time the same way every time', async () => {
    const weather = await call('get_weather', { city: 'Lima', days: 3 });
    expect(weather.status).toBe(200);
    expect(weather.body.forecast).toHaveLength(3);
    expect(await call('get_weather', { days: 3, city: 'Lima' })).toEqual(weather);
    const time = await call('get_time', { timezone: 'Asia/Tokyo' });
    expect(time).toEqual({ status: 200, body: { timezone: 'Asia/Tokyo', local_time: '2025-01-01 21:00:00', utc: '2025-01-01T12:00:00.000Z' } });
  });

  it('rejects bad arguments, unknown tools and unknown timezones with a reason', async () => {
    expect((await call('get_weather', { city: 'Lima', days: 0 })).status).toBe(400);
    expect((await call('get_time', { timezone: 'Mars/Olympus' })).body.error).toMatch(/unknown timezone/);
    expect((await call('book_table', { city: 'Lima', party_size: '4' }, { 'idempotency-key': 'k' })).status).toBe(400);
    expect((await call('order_pizza', {})).status).toBe(404);
  });

  it('applies a booking once per idempotency key and replays the stored answer', async () => {
    const first = await call('book_table', { city: 'Oslo', party_size: 2 }, { 'idempotency-key': 'case/turn-0/call-0', 'x-conform-call': '0.0' });
    const again = await call('book_table', { party_size: 2, city: 'Oslo' }, { 'idempotency-key': 'case/turn-0/call-0', 'x-conform-call': '0.0' });
    expect(first.status).toBe(200);
    expect(again).toEqual(first);
    const other = await call('book_table', { city: 'Oslo', party_size: 2 }, { 'idempotency-key': 'case/turn-1/call-0', 'x-conform-call': '1.0' });
    expect(other.body.confirmation).not.toBe(first.body.confirmation);
    expect(server.ledger.sideEffects()).toEqual([
      { idempotencyKey: 'case/turn-0/call-0', tool: 'book_table', call: '0.0', applied: 1 },
      { idempotencyKey: 'case/turn-1/call-0', tool: 'book_table', call: '1.0', applied: 1 },
    ]);
    expect(server.ledger.duplicatedCalls()).toEqual([]);
  });

  it('refuses a booking without a key and a key reused for other arguments', async () => {
    expect((await call('book_table', { city: 'Lima', party_size: 2 })).body.error).toMatch(/Idempotency-Key/);
    await call('book_table', { city: 'Lima', party_size: 2 }, { 'idempotency-key': 'k1' });
    expect((await call('book_table', { city: 'Lima', party_size: 3 }, { 'idempotency-key': 'k1' })).status).toBe(422);
    expect(server.ledger.sideEffects()).toHaveLength(1);
  });

  it('exposes a client that sends a fresh key on retry: the same logical call applied twice', async () => {
    await call('book_table', { city: 'Tokyo', party_size: 4 }, { 'idempotency-key': 'retry-a', 'x-conform-call': '0.0' });
    await call('book_table', { city: 'Tokyo', party_size: 4 }, { 'idempotency-key': 'retry-b', 'x-conform-call': '0.0' });
    expect(server.ledger.sideEffects().map((s) => s.applied)).toEqual([1, 1]);
    expect(server.ledger.duplicatedCalls()).toEqual([{ call: expect.stringContaining('0.0 book_table'), tool: 'book_table', keys: ['retry-a', 'retry-b'], applied: 2 }]);
  });

  it('reads without side effects leave the ledger empty', async () => {
    await call('get_weather', { city: 'Lima', days: 1 }, { 'idempotency-key': 'w' });
    await call('get_weather', { city: 'Lima', days: 1 }, { 'idempotency-key': 'w' });
    expect(server.ledger.sideEffects()).toEqual([]);
    expect(server.ledger.requests).toBe(2);
  });
});
