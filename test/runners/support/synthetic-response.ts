// Hand-built HTTP responses for fault scripts: only what a test needs, framed the way a test asks.

import { encodeChunked } from './chunked-coding.ts';

export type Framing = 'length' | 'chunked' | 'close';

/** SSE text with one `data:` event per payload, and `[DONE]` unless told otherwise. */
export function ssePayload(datas: string[], done = true): string {
  return [...datas, ...(done ? ['[DONE]'] : [])].map((d) => `data: ${d}\n\n`).join('');
}

/** A complete response; `chunked` frames each piece as its own chunk, `close` ends the body by closing. */
export function buildResponse(status: number, headers: Record<string, string>, body: string | string[], framing: Framing = 'length'): Uint8Array {
  const pieces = (Array.isArray(body) ? body : [body]).map((p) => new Uint8Array(Buffer.from(p, 'utf8')));
  const total = pieces.reduce((n, p) => n + p.length, 0);
  const lines = [`HTTP/1.1 ${status} ${status < 300 ? 'OK' : 'Error'}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  if (framing === 'length') lines.push(`Content-Length: ${total}`);
  if (framing === 'chunked') lines.push('Transfer-Encoding: chunked');
  if (framing === 'close') lines.push('Connection: close');
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  const payload = framing === 'chunked' ? encodeChunked(pieces) : Buffer.concat(pieces);
  return new Uint8Array(Buffer.concat([head, payload]));
}
