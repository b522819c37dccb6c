import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(REPO, 'bin', 'conform.js');

/** A throwaway project folder holding copies of the given repo paths plus any extra files. */
export function makeProject(copy: string[], files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'conform-e2e-'));
  for (const path of copy) cpSync(join(REPO, path), join(dir, path), { recursive: true });
  for (const [path, text] of Object.entries(files)) writeFileSync(join(dir, path), text);
  return dir;
}

/** Runs the real CLI binary, as a user would; never rejects, so tests assert on exit codes. */
export function conform(args: string[], options: { cwd: string; env?: Record<string, string>; timeout?: number }) {
  return execa(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env: { CONFORM_CACHE_DIR: join(REPO, '.cache', 'conform'), ...options.env },
    reject: false,
    timeout: options.timeout ?? 240_000,
  });
}
