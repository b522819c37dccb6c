// Loads one recorded llama-server exchange and separates what the server meant (status, headers,
// payload) from how it was framed, because the recordings' framing is not always self-consistent.

import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeChunked, encodeChunked, looksChunked } from './chunked-coding.ts';

export const FIXTURE_ROOT = fileURLToPath(new URL('../../fixtures/llama-server-b4748/', import.meta.url));

export interface RecordedExchange {
  dir: string;
  name: string;
  /** The POSTed body as text; some requests are deliberately not JSON. */
  requestText: string | undefined;
  /** The response file exactly as recorded. */
  file: Uint8Array;
  status: number;
  headers: Record<string, string>;
  /** The message body with any transfer coding removed: JSON, or SSE bytes. */
  payload: Uint8Array;
  declaredChunked: boolean;
  /** False when the header says chunked but the recorded body carries no chunk framing. */
  framed: boolean;
  /** A valid HTTP/1.1 response with the same head and payload: the file itself whenever it is valid. */
  wire: Uint8Array;
}

/** Splits an SSE payload after each blank line, which is how llama-server writes one chunk per event. */
function sseEvents(payload: Uint8Array): Uint8Array[] {
  const buf = Buffer.from(payload);
  const out: Uint8Array[] = [];
  let start = 0;
  for (let i = buf.indexOf('\n\n', 0); i !== -1; i = buf.indexOf('\n\n', start)) {
    out.push(buf.subarray(start, i + 2));
    start = i + 2;
  }
  if (start < buf.length) out.push(buf.subarray(start));
  return out;
}

/** Reads `<dir>/<name>.{request.json,response.http}` from the llama-server fixtures. */
export function loadRecordedExchange(dir: string, name: string): RecordedExchange {
  const base = join(FIXTURE_ROOT, dir, name);
  const requestText = existsSync(`${base}.request.json`) ? readFileSync(`${base}.request.json`, 'utf8') : undefined;
  const file = new Uint8Array(readFileSync(`${base}.response.http`));
  const buf = Buffer.from(file);
  const split = buf.indexOf('\r\n\r\n');
  if (split === -1) throw new Error(`${base}: no end of headers`);
  const [statusLine = '', ...headerLines] = buf.subarray(0, split).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const head = buf.subarray(0, split + 4);
  const body = buf.subarray(split + 4);
  const declaredChunked = /chunked/i.test(headers['transfer-encoding'] ?? '');
  const framed = !declaredChunked || looksChunked(body);
  const payload = declaredChunked && framed ? decodeChunked(body) : new Uint8Array(body);
  const wire = framed ? file : new Uint8Array(Buffer.concat([head, encodeChunked(sseEvents(payload))]));
  return { dir, name, requestText, file, status, headers, payload, declaredChunked, framed, wire };
}
