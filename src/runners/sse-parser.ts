// A server-sent-events parser that follows the WHATWG event-stream rules exactly, because
// conform judges servers by what they put on the wire and must not "fix" their framing silently.

/** One dispatched event; `event` defaults to `message` as the spec says. */
export interface SseEvent {
  event: string;
  data: string;
  id?: string;
  retry?: number;
}

/** What the stream left unterminated when it ended; a non-empty `trailing` means an event was cut off. */
export interface SseFinish {
  trailing: string;
}

export interface SseParser {
  push(chunk: Uint8Array): SseEvent[];
  finish(): SseFinish;
}

const LF = 10;
const CR = 13;

/** Creates an incremental parser; bytes may be split anywhere, even inside a UTF-8 character. */
export function createSseParser(): SseParser {
  // Streaming mode keeps a split multibyte character's first bytes until the rest arrive.
  const decoder = new TextDecoder('utf-8');
  let partialLine = '';
  // A CR at the end of one chunk may be the first half of a CRLF that ends in the next.
  let skipLeadingLf = false;
  let dataLines: string[] = [];
  let eventType = '';
  let lastEventId: string | undefined;
  let retry: number | undefined;
  // Field lines of the event being built, kept verbatim so a cut-off event can be reported.
  let pendingLines: string[] = [];

  function dispatch(out: SseEvent[]): void {
    // Per spec, an event with no data lines is dropped, but its type is still reset.
    if (dataLines.length > 0) {
      const event: SseEvent = { event: eventType || 'message', data: dataLines.join('\n') };
      if (lastEventId !== undefined) event.id = lastEventId;
      if (retry !== undefined) event.retry = retry;
      out.push(event);
    }
    dataLines = [];
    eventType = '';
    retry = undefined;
    pendingLines = [];
  }

  function processLine(line: string, out: SseEvent[]): void {
    if (line === '') {
      dispatch(out);
      return;
    }
    // Comments carry keep-alives; they are not part of any event.
    if (line.charCodeAt(0) === 58 /* ':' */) return;
    pendingLines.push(line);
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32 /* ' ' */) value = value.slice(1);
    switch (field) {
      case 'data':
        dataLines.push(value);
        break;
      case 'event':
        eventType = value;
        break;
      case 'id':
        // The spec ignores ids containing NUL so that they cannot truncate stored state.
        if (!value.includes('\0')) lastEventId = value;
        break;
      case 'retry':
        if (/^[0-9]+$/.test(value)) retry = Number(value);
        break;
      default:
        // Unknown fields are ignored by the spec; a strict parser still must not fail on them.
        break;
    }
  }

  function consume(text: string, out: SseEvent[]): void {
    let start = 0;
    if (skipLeadingLf && text.length > 0) {
      if (text.charCodeAt(0) === LF) start = 1;
      skipLeadingLf = false;
    }
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== LF && c !== CR) continue;
      const line = partialLine + text.slice(start, i);
      partialLine = '';
      if (c === CR) {
        if (i + 1 < text.length) {
          if (text.charCodeAt(i + 1) === LF) i++;
        } else {
          skipLeadingLf = true;
        }
      }
      start = i + 1;
      processLine(line, out);
    }
    partialLine += text.slice(start);
  }

  return {
    push(chunk: Uint8Array): SseEvent[] {
      const out: SseEvent[] = [];
      consume(decoder.decode(chunk, { stream: true }), out);
      return out;
    },
    finish(): SseFinish {
      // Flushing turns a dangling partial character into U+FFFD, so a cut inside one is visible.
      const out: SseEvent[] = [];
      consume(decoder.decode(), out);
      const lines = [...pendingLines];
      if (partialLine !== '' && partialLine.charCodeAt(0) !== 58) lines.push(partialLine);
      partialLine = '';
      pendingLines = [];
      dataLines = [];
      return { trailing: lines.join('\n') };
    },
  };
}
