#!/usr/bin/env node
// Compiles src/ to dist/ (JavaScript plus the .d.ts that `conform/config` and `conform/vitest`
// resolve to), so a start loads plain JavaScript instead of compiling TypeScript through tsx.
// npm runs it as `prepare`: on `npm ci` in a clone and on `npm pack`, never in a project that
// installs the tarball, which gets dist/ ready-made.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');
const dist = join(root, 'dist');
// bin/conform.js runs dist/ only when this stamp is newer than every file under src/.
const stamp = join(dist, '.built');

const started = performance.now();
rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
try {
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
} catch {
  rmSync(dist, { recursive: true, force: true });
  process.stderr.write('conform build: tsc failed (errors above); dist/ removed, so bin/conform.js runs the sources through tsx\n');
  process.exit(1);
}

// tsc copies no assets; the modules read these next to themselves through import.meta.url.
for (const file of readdirSync(src, { recursive: true, withFileTypes: true })) {
  if (!file.isFile() || /\.ts$/.test(file.name)) continue;
  const from = join(file.parentPath, file.name);
  const to = join(dist, relative(src, from));
  mkdirSync(dirname(to), { recursive: true });
  cpSync(from, to);
}
// The published schemas' validators as code, so an installed conform does not compile them at every start.
const { writePrecompiledValidators } = await import(pathToFileURL(join(dist, 'suites', 'schema-standalone.js')).href);
writePrecompiledValidators(join(dist, 'suites'), join(root, 'schemas'));
writeFileSync(stamp, `${new Date().toISOString()}\n`);
process.stdout.write(`conform build: dist/ in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
