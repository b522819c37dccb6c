import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { contentOf } from './support/content-of.ts';
import { decodeChunked, encodeChunked } from './support/chunked-coding.ts';
import { normalizeSseBytes } from './support/normalize-sse-bytes.ts';
import { loadRecordedExchange } from './support/recorded-exchange.ts';
import { caseOf, replayExchange } from './support/replay-exchange.ts';

const STREAMS = ['cpu', 'vulkan'].flatMap((dir) =>
  ['chat-stream', 'chat-stream-usage-logprobs', 'completions-stream'].map((name) => loadRecordedExchange(dir, name)),
);

function cut(bytes: Uint8Array, offsets: number[]): Uint8Array[] {
  const sorted = [...new Set(offsets)].filter((n) => n > 0 && n < bytes.length).sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let start = 0;
  for (const offset of [...sorted, bytes.length]) {
    out.push(bytes.subarray(start, offset));
    start = offset;
  }
  return out;
}

/** The body of a wire response, with its transfer coding removed, as a client would see it. */
function wirePayload(wire: Uint8Array): Uint8Array {
  const split = Buffer.from(wire).indexOf('\r\n\r\n');
  return decodeChunked(wire.subarray(split + 4));
}

const whole = new Map(STREAMS.map((ex) => [ex, normalizeSseBytes([ex.payload], (caseOf(ex).endpoint as 'chat' | 'completion'))]));

describe('chunked transfer coding helper', () => {
  it('decodes what it encodes (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 10 }), (pieces) => {
        expect(Buffer.from(decodeChunked(encodeChunked(pieces)))).toEqual(Buffer.concat(pieces));
      }),
    );
  });

  it.each(STREAMS.map((ex) => [ex.dir, ex.name, ex] as const))('%s/%s: the replayed wire body de-chunks to the recorded payload', (_d, _n, ex) => {
    expect(Buffer.from(wirePayload(ex.wire))).toEqual(Buffer.from(ex.payload));
  });
});

describe('parser + accumulator over recorded stream bytes', () => {
  it.each(STREAMS.map((ex) => [ex.dir, ex.name, ex] as const))('%s/%s: any split gives the same answer (property)', (_d, _n, ex) => {
    const expected = whole.get(ex)!;
    expect(expected.kind).toBe('ok');
    const payload = wirePayload(ex.wire);
    fc.assert(
      fc.property(fc.array(fc.nat({ max: payload.length }), { maxLength: 60 }), (offsets) => {
        const got = normalizeSseBytes(cut(payload, offsets), (caseOf(ex).endpoint as 'chat' | 'completion'));
        expect(contentOf(got)).toEqual(contentOf(expected));
        expect(got.timings.chunkMs).toHaveLength(expected.timings.chunkMs.length);
      }),
      { numRuns: 60 },
    );
  });

  it.each(STREAMS.map((ex) => [ex.dir, ex.name, ex] as const))('%s/%s: one byte at a time gives the same answer', (_d, _n, ex) => {
    const bytes = [...ex.payload].map((b) => new Uint8Array([b]));
    const got = normalizeSseBytes(bytes, (caseOf(ex).endpoint as 'chat' | 'completion'));
    expect(contentOf(got)).toEqual(contentOf(whole.get(ex)!));
    // Each event "arrives" with the byte that completes it, so the times are the offsets of the blank lines.
    const ends = [...Buffer.from(ex.payload).toString('latin1').matchAll(/\n\n/g)].map((m) => m.index + 1);
    expect(ends).toEqual(expect.arrayContaining(got.timings.chunkMs));
  });
});

describe('end to end through the runner, re-chunked on the wire', () => {
  it('gives the recorded answer however the response bytes are split (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...STREAMS), fc.array(fc.nat({ max: 9000 }), { maxLength: 40 }), async (ex, offsets) => {
        const { sample } = await replayExchange(ex, { bytes: ex.wire, splitAt: offsets.map((o) => o % ex.wire.length) });
        expect(contentOf(sample)).toEqual(contentOf(whole.get(ex)!));
        expect(sample.timings.chunkMs).toHaveLength(whole.get(ex)!.timings.chunkMs.length);
      }),
      { numRuns: 20 },
    );
  });

  it('gives the recorded answer when every byte is its own write', async () => {
    const ex = STREAMS.find((s) => s.dir === 'vulkan' && s.name === 'chat-stream')!;
    const { sample } = await replayExchange(ex, { bytes: ex.wire, splitAt: Array.from({ length: ex.wire.length }, (_, i) => i) });
    expect(contentOf(sample)).toEqual(contentOf(whole.get(ex)!));
    expect(sample.text).toBe(" осіб wet}'Method editor True п Bug idő nommé breast For");
  });

  it('stamps each event with its own arrival time when the server paces them', async () => {
    const ex = STREAMS.find((s) => s.dir === 'cpu' && s.name === 'completions-stream')!;
    const wire = Buffer.from(ex.wire);
    // Split right after each event's chunk, so the eight text events arrive 15 ms apart.
    const offsets = [...wire.toString('latin1').matchAll(/\n\n\r\n/g)].map((m) => m.index + 4);
    const { sample } = await replayExchange(ex, { bytes: ex.wire, splitAt: offsets, delayMs: 15 });
    const gaps = sample.timings.chunkMs.slice(1).map((t, i) => t - sample.timings.chunkMs[i]!);
    expect(sample.timings.chunkMs).toHaveLength(8);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(10);
    expect(sample.timings.endMs).toBeGreaterThan(sample.timings.chunkMs.at(-1)!);
  });
});
