import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';

// JSON.stringify builds its whole result as one string, and V8 strings stop at about 512 MiB: one huge
// sample (a 200 MB body of control characters escapes to 1.2 GB) made every later report fail with
// "Invalid string length". This writer produces the same text piece by piece into a file descriptor.

/** Pieces are gathered up to this many characters before one write. */
const FLUSH_AT = 1 << 16;
/** Strings longer than this are escaped in slices, so no escaped copy of a huge string exists at once. */
const STRING_SLICE = 1 << 20;

/** Buffered writes of text pieces to an open file descriptor. */
export interface TextSink {
  write(piece: string): void;
  /** Writes what is buffered; the descriptor stays open. */
  flush(): void;
}

/** A TextSink over `fd` that writes in pieces of about FLUSH_AT characters. */
export function fdSink(fd: number): TextSink {
  let parts: string[] = [];
  let size = 0;
  const flush = () => {
    if (size === 0) return;
    writeSync(fd, parts.join(''));
    parts = [];
    size = 0;
  };
  return {
    write(piece) {
      if (piece.length >= FLUSH_AT) {
        flush();
        writeSync(fd, piece);
        return;
      }
      parts.push(piece);
      size += piece.length;
      if (size >= FLUSH_AT) flush();
    },
    flush,
  };
}

function writeString(sink: TextSink, text: string): void {
  if (text.length <= STRING_SLICE) return sink.write(JSON.stringify(text));
  sink.write('"');
  for (let start = 0; start < text.length; ) {
    let end = Math.min(text.length, start + STRING_SLICE);
    // Never split a surrogate pair: each half alone would be escaped as a lone surrogate.
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    sink.write(JSON.stringify(text.slice(start, end)).slice(1, -1));
    start = end;
  }
  sink.write('"');
}

/** What JSON.stringify makes of a value before writing it: toJSON applied, boxed primitives unwrapped. */
function prepared(value: unknown, key: string): unknown {
  let v = value;
  if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') v = (v as { toJSON(key: string): unknown }).toJSON(key);
  if (v instanceof Number || v instanceof String || v instanceof Boolean) v = v.valueOf();
  return v;
}

const skipped = (v: unknown) => v === undefined || typeof v === 'function' || typeof v === 'symbol';

/** Values whose strings add up to fewer characters than this go through JSON.stringify whole. */
const NATIVE_BELOW = 1 << 22;

/**
 * Whether the value's strings, keys included, add up to fewer than `budget` characters: a walk that stops
 * at the budget, so asking costs little even of a huge value. A value with a toJSON or a BigInt answers no,
 * and is left to the piecewise writer, which handles each as JSON.stringify does. So does a cycle: every
 * step into a member spends some of the budget, so the walk around it ends there.
 */
function smallerThan(value: unknown, budget: number): boolean {
  let left = budget;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') left -= v.length + 2;
    else if (typeof v === 'bigint') return false;
    else if (v !== null && typeof v === 'object') {
      if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return false;
      if (Array.isArray(v)) {
        left -= v.length;
        for (const item of v) stack.push(item);
      } else
        for (const name of Object.keys(v)) {
          left -= name.length + 4;
          stack.push((v as Record<string, unknown>)[name]);
        }
    } else left -= 8;
    if (left < 0) return false;
  }
  return true;
}

/**
 * Writes exactly the text of JSON.stringify(value, null, indent) to the sink, without ever holding it
 * whole. Throws as JSON.stringify does on a cycle or a BigInt. Parts small enough are handed to
 * JSON.stringify itself: the piecewise walk costs about 4× its CPU, and is only needed for huge values.
 */
export function writeJson(sink: TextSink, value: unknown, indent = 0): void {
  const pad = ' '.repeat(indent);
  const open = new Set<object>();
  const visit = (raw: unknown, key: string, depth: string): void => {
    if (raw !== null && typeof raw === 'object' && smallerThan(raw, NATIVE_BELOW)) {
      const text = JSON.stringify(raw, null, indent);
      // Newlines in a JSON text are layout only (a newline inside a string is escaped), so nesting is a prefix.
      return sink.write(indent && depth ? text.replaceAll('\n', `\n${depth}`) : text);
    }
    const v = prepared(raw, key);
    if (v === null || skipped(v)) return sink.write('null');
    if (typeof v === 'string') return writeString(sink, v);
    if (typeof v === 'number') return sink.write(Number.isFinite(v) ? String(v) : 'null');
    if (typeof v === 'boolean') return sink.write(v ? 'true' : 'false');
    if (typeof v === 'bigint') throw new TypeError('Do not know how to serialize a BigInt');
    const object = v as object;
    if (open.has(object)) throw new TypeError('Converting circular structure to JSON');
    open.add(object);
    const inner = depth + pad;
    const newline = indent ? `\n${inner}` : '';
    if (Array.isArray(object)) {
      if (object.length === 0) sink.write('[]');
      else {
        sink.write('[');
        object.forEach((item, i) => {
          sink.write(i === 0 ? newline : `,${newline}`);
          visit(item, String(i), inner);
        });
        sink.write(indent ? `\n${depth}]` : ']');
      }
    } else {
      let first = true;
      for (const name of Object.keys(object)) {
        const member = prepared((object as Record<string, unknown>)[name], name);
        if (skipped(member)) continue;
        sink.write(`${first ? '{' : ','}${newline}${JSON.stringify(name)}:${indent ? ' ' : ''}`);
        first = false;
        visit(member, name, inner);
      }
      sink.write(first ? '{}' : indent ? `\n${depth}}` : '}');
    }
    open.delete(object);
  };
  visit(value, '', '');
}

/** Writes `render`'s pieces to a temporary file and renames it into place: a kill mid-write never leaves half a file. */
export function writeFileInPieces(file: string, render: (sink: TextSink) => void): void {
  const temporary = `${file}.${process.pid}.tmp`;
  const fd = openSync(temporary, 'w');
  try {
    const sink = fdSink(fd);
    render(sink);
    sink.flush();
  } catch (error) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(temporary, file);
}

/** JSON.stringify(value, null, indent) plus a newline, written to `file` in pieces. */
export function writeJsonFile(file: string, value: unknown, indent = 2): void {
  writeFileInPieces(file, (sink) => {
    writeJson(sink, value, indent);
    sink.write('\n');
  });
}

/** Writes one JSON line to an open descriptor and flushes it; whatever its size, no single string holds it. */
export function writeJsonLine(fd: number, value: unknown): void {
  const sink = fdSink(fd);
  writeJson(sink, value);
  sink.write('\n');
  sink.flush();
}

/** Appends one JSON line to `file`, opening and closing it. */
export function appendJsonLine(file: string, value: unknown): void {
  const fd = openSync(file, 'a');
  try {
    writeJsonLine(fd, value);
  } finally {
    closeSync(fd);
  }
}
