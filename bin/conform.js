#!/usr/bin/env node
// Starts conform from the compiled dist/ (plain JavaScript, quick to load). An installed package
// has only dist/. A clone has src/ too, and runs the sources through tsx whenever dist/ is
// missing or older than any of them, so an edit is never hidden behind a stale build.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');

/** Newest modification time under dir, folders included, so a deleted file counts as a change too. */
function newestMtime(dir) {
  let newest = statSync(dir).mtimeMs;
  for (const entry of readdirSync(dir, { recursive: true })) newest = Math.max(newest, statSync(join(dir, entry)).mtimeMs);
  return newest;
}

const stamp = join(root, 'dist', '.built');
const isClone = existsSync(join(src, 'cli', 'main.ts'));

/** The entry point to run: dist/ when it is there and current, the sources through tsx otherwise. */
async function loadMain() {
  if (existsSync(stamp) && (!isClone || statSync(stamp).mtimeMs >= newestMtime(src))) return (await import('../dist/cli/main.js')).main;
  if (!isClone) {
    process.stderr.write(`conform: ${join(root, 'dist')} is missing or incomplete; reinstall conform (a tarball made with "npm pack" builds it)\n`);
    return async () => 3;
  }
  const { register } = await import('tsx/esm/api');
  register();
  return (await import('../src/cli/main.ts')).main;
}

const main = await loadMain();
process.exitCode = await main(process.argv.slice(2));
