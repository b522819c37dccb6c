import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSseParser, type SseEvent } from '../../src/runners/sse-parser.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function parseAll(chunks: Uint8Array[]): { events: SseEvent[]; trailing: string } {
  const parser = createSseParser();
  const events = chunks.flatMap((c) => parser.push(c));
  return { events, ...parser.finish() };
}

function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const sorted = [...new Set(cuts)].filter((n) => n > 0 && n < bytes.length).sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let start = 0;
  for (const cut of [...sorted, bytes.length]) {
    out.push(bytes.subarray(start, cut));
    start = cut;
  }
  return out;
}

describe('createSseParser', () => {
  it('parses data events with or without the space after the colon', () => {
    const { events, trailing } = parseAll([enc('data: one\n\ndata:two\n\ndata:  three\n\n')]);
    expect(events.map((e) => e.data)).toEqual(['one', 'two', ' three']);
    expect(events.every((e) => e.event === 'message')).toBe(true);
    expect(trailing).toBe('');
  });

  it('accepts LF, CRLF and lone CR line endings, mixed', () => {
    const { events } = parseAll([enc('data: a\r\n\r\ndata: b\r\rdata: c\n\ndata: d\r\n\n')]);
    expect(events.map((e) => e.data)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('does not see a CRLF split across chunks as two line breaks', () => {
    const { events } = parseAll([enc('data: a\r'), enc('\ndata: b\r'), enc('\n\r'), enc('\n')]);
    expect(events).toEqual([{ event: 'message', data: 'a\nb' }]);
  });

  it('skips comments and keep-alives, including between the lines of one event', () => {
    const { events } = parseAll([enc(': keep-alive\n\n:\ndata: x\n: ping\ndata: y\n\n')]);
    expect(events.map((e) => e.data)).toEqual(['x\ny']);
  });

  it('joins multi-line data with LF and drops the final LF', () => {
    const { events } = parseAll([enc('data: {"a":\ndata: 1}\ndata\n\n')]);
    expect(events[0]!.data).toBe('{"a":\n1}\n');
  });

  it('reads event, id and retry fields and keeps the last id for later events', () => {
    const { events } = parseAll([enc('event: error\nid: 7\nretry: 1500\ndata: boom\n\ndata: next\n\nid: a\0b\ndata: n\n\nretry: soon\ndata: r\n\n')]);
    expect(events).toEqual([
      { event: 'error', data: 'boom', id: '7', retry: 1500 },
      { event: 'message', data: 'next', id: '7' },
      { event: 'message', data: 'n', id: '7' },
      { event: 'message', data: 'r', id: '7' },
    ]);
  });

  it('dispatches nothing for an event without data, and ignores unknown fields', () => {
    const { events } = parseAll([enc('event: ping\n\nfoo: bar\ndata: ok\n\n')]);
    expect(events).toEqual([{ event: 'message', data: 'ok' }]);
  });

  it('strips a leading byte-order mark only at the start of the stream', () => {
    const { events } = parseAll([new Uint8Array([0xef, 0xbb, 0xbf]), enc('data: x\n\n')]);
    expect(events.map((e) => e.data)).toEqual(['x']);
  });

  it('reports an unterminated event in finish() instead of dispatching it', () => {
    const parser = createSseParser();
    expect(parser.push(enc('data: done\n\ndata: {"choices":[{"del'))).toHaveLength(1);
    expect(parser.finish().trailing).toBe('data: {"choices":[{"del');
  });

  it('reports completed lines that lack the closing blank line', () => {
    const parser = createSseParser();
    parser.push(enc('event: x\ndata: whole line\n'));
    expect(parser.finish().trailing).toBe('event: x\ndata: whole line');
  });

  it('does not count a dangling comment as a cut-off event', () => {
    const parser = createSseParser();
    parser.push(enc('data: a\n\n: keep-al'));
    expect(parser.finish().trailing).toBe('');
  });

  it('shows a UTF-8 character cut by the end of the stream as U+FFFD', () => {
    const parser = createSseParser();
    parser.push(new Uint8Array([...enc('data: '), 0xd0]));
    expect(parser.finish().trailing).toBe('data: \ufffd');
  });

  it('decodes a multibyte character split across pushes', () => {
    const bytes = enc('data: осіб 山\n\n');
    const { events } = parseAll([...bytes].map((b) => new Uint8Array([b])));
    expect(events).toEqual([{ event: 'message', data: 'осіб 山' }]);
  });

  // Streams built from the grammar, with text that exercises multibyte characters and line-ending choices.
  const fieldValue = fc.stringMatching(/^[^\r\n]*$/).map((s) => s.replace(/\0/g, '')).chain((s) => fc.constantFrom(s, `${s}осіб山€𝄞`));
  const lineEnd = fc.constantFrom('\n', '\r\n', '\r');
  const line = fc.oneof(
    fc.tuple(fc.constantFrom('data:', 'data: '), fieldValue).map(([k, v]) => k + v),
    fc.tuple(fc.constantFrom('event:', 'id: '), fieldValue).map(([k, v]) => k + v),
    fieldValue.map((v) => `:${v}`),
  );
  const stream = fc.array(fc.tuple(fc.array(fc.tuple(line, lineEnd), { maxLength: 4 }), lineEnd), { maxLength: 6 }).map((events) =>
    events.map(([lines, end]) => lines.map(([l, e]) => l + e).join('') + end).join(''),
  );

  it('gives the same events however the bytes are split (property)', () => {
    fc.assert(
      fc.property(stream, fc.array(fc.nat({ max: 400 }), { maxLength: 20 }), (text, cuts) => {
        const bytes = enc(text);
        const whole = parseAll([bytes]);
        expect(parseAll(splitAt(bytes, cuts))).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same events when fed one byte at a time (property)', () => {
    fc.assert(
      fc.property(stream, (text) => {
        const bytes = enc(text);
        expect(parseAll([...bytes].map((b) => new Uint8Array([b])))).toEqual(parseAll([bytes]));
      }),
      { numRuns: 100 },
    );
  });
});
