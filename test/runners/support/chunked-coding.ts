// HTTP/1.1 chunked transfer coding, both ways, so tests can compare payloads and build valid wire bytes.

const CRLF = Buffer.from('\r\n');

/** Whether `body` starts like a chunked message body (hex size, optional extension, CRLF). */
export function looksChunked(body: Uint8Array): boolean {
  const head = Buffer.from(body.subarray(0, 64)).toString('latin1');
  return /^[0-9a-fA-F]+(;[^\r\n]*)?\r\n/.test(head);
}

/** Removes chunked framing; throws on anything that is not valid framing, since a lenient decoder would hide broken recordings. */
export function decodeChunked(body: Uint8Array): Uint8Array {
  const buf = Buffer.from(body);
  const parts: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const eol = buf.indexOf(CRLF, pos);
    if (eol === -1) throw new Error(`chunk size line not terminated at byte ${pos}`);
    const sizeText = buf.subarray(pos, eol).toString('latin1').split(';')[0]!.trim();
    if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw new Error(`bad chunk size ${JSON.stringify(sizeText)} at byte ${pos}`);
    const size = parseInt(sizeText, 16);
    pos = eol + 2;
    if (size === 0) return new Uint8Array(Buffer.concat(parts));
    if (pos + size + 2 > buf.length || buf[pos + size] !== 13 || buf[pos + size + 1] !== 10) throw new Error(`chunk at byte ${pos} overruns the body`);
    parts.push(buf.subarray(pos, pos + size));
    pos += size + 2;
  }
}

/** Frames each piece as one chunk and adds the last-chunk marker. */
export function encodeChunked(pieces: Uint8Array[]): Uint8Array {
  const out: Buffer[] = [];
  for (const piece of pieces) {
    if (piece.length === 0) continue;
    out.push(Buffer.from(`${piece.length.toString(16)}\r\n`, 'latin1'), Buffer.from(piece), CRLF);
  }
  out.push(Buffer.from('0\r\n\r\n', 'latin1'));
  return new Uint8Array(Buffer.concat(out));
}
