// The edge of the precision section: finds the GGUF file whose sha256 a backend reported (among the
// files the caller names and the .gguf files of the fixture cache) and reads its header.

import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { HeaderTruncatedError, readGgufHeader } from '../engine/gguf/gguf-reader.ts';
import { weightPrecision } from './precision.ts';
import type { Absent, WeightPrecision } from './types.ts';

/** Reads just enough of a GGUF file for its header, doubling the prefix while the header continues. */
export function readGgufHeaderFromFile(file: string): ReturnType<typeof readGgufHeader> {
  const size = statSync(file).size;
  let length = Math.min(size, 1 << 20);
  for (;;) {
    const buffer = Buffer.alloc(length);
    const fd = openSync(file, 'r');
    try {
      readSync(fd, buffer, 0, length, 0);
    } finally {
      closeSync(fd);
    }
    try {
      return readGgufHeader(buffer);
    } catch (error) {
      if (!(error instanceof HeaderTruncatedError) || length >= size) throw error;
      length = Math.min(size, Math.max(error.needed, length * 2));
    }
  }
}

/** Candidate model files: the ones named, then every .gguf directly inside the given folders. */
export function candidateModels(files: string[], folders: string[]): string[] {
  const found = files.filter((f) => existsSync(f));
  for (const folder of folders) {
    if (!existsSync(folder)) continue;
    for (const name of readdirSync(folder).sort()) if (name.endsWith('.gguf')) found.push(join(folder, name));
  }
  return [...new Set(found)];
}

/** The weight precision of each wanted sha256, from the first candidate whose content has it. */
export function weightsBySha256(wanted: string[], candidates: string[], cwd: string): Map<string, WeightPrecision | Absent> {
  const out = new Map<string, WeightPrecision | Absent>();
  const pending = new Set(wanted);
  for (const file of candidates) {
    if (pending.size === 0) break;
    const sha = createHash('sha256').update(readFileSync(file)).digest('hex');
    if (!pending.has(sha)) continue;
    pending.delete(sha);
    try {
      out.set(sha, weightPrecision(readGgufHeaderFromFile(file), `GGUF header of ${relative(cwd, file) || file}`));
    } catch (error) {
      out.set(sha, { absent: `${file} has the model's sha256 but its GGUF header could not be read: ${(error as Error).message}` });
    }
  }
  return out;
}
