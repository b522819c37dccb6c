import { closeSync, openSync, readSync, statSync } from 'node:fs';

/** The last lines of a backend's log, for error verdicts: what the process said before it died. */
export function logTail(file: string, lines = 12, maxBytes = 16_384): string {
  try {
    const size = statSync(file).size;
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    const fd = openSync(file, 'r');
    try {
      readSync(fd, buffer, 0, length, size - length);
    } finally {
      closeSync(fd);
    }
    return buffer.toString('utf8').split('\n').filter(Boolean).slice(-lines).join('\n');
  } catch {
    return '';
  }
}
