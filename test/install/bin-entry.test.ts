import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/conform-cli.ts';

// bin/conform.js picks what to run: dist/ when it is built and current, the sources through tsx in
// a clone whose dist/ is missing or stale. The real bin runs here in a package-shaped folder whose
// two entry points only say which one ran.
let pkg: string;
const now = Date.now() / 1000;
const stamp = () => join(pkg, 'dist', '.built');

function setTimes(path: string, seconds: number): void {
  utimesSync(path, seconds, seconds);
}

function ageTree(dir: string, seconds: number): void {
  for (const entry of readdirSync(dir, { recursive: true })) setTimes(join(dir, String(entry)), seconds);
  setTimes(dir, seconds);
}

beforeEach(() => {
  pkg = mkdtempSync(join(tmpdir(), 'conform-bin-'));
  cpSync(join(REPO, 'bin'), join(pkg, 'bin'), { recursive: true });
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'conform', type: 'module' }));
  symlinkSync(join(REPO, 'node_modules'), join(pkg, 'node_modules'));
  mkdirSync(join(pkg, 'src', 'cli'), { recursive: true });
  // A type annotation, so only tsx can load it.
  writeFileSync(join(pkg, 'src', 'cli', 'main.ts'), "export async function main(argv: string[]): Promise<number> {\n  process.stdout.write(`from src ${argv.join(' ')}\\n`);\n  return 4;\n}\n");
  writeFileSync(join(pkg, 'src', 'cli', 'other.ts'), 'export {};\n');
  mkdirSync(join(pkg, 'dist', 'cli'), { recursive: true });
  writeFileSync(join(pkg, 'dist', 'cli', 'main.js'), "export async function main(argv) {\n  process.stdout.write(`from dist ${argv.join(' ')}\\n`);\n  return 5;\n}\n");
  writeFileSync(stamp(), 'built\n');
  ageTree(join(pkg, 'src'), now - 100);
  setTimes(stamp(), now - 50);
});
afterEach(() => rmSync(pkg, { recursive: true, force: true }));

const run = () => execa(process.execPath, [join(pkg, 'bin', 'conform.js'), 'run', '--x'], { cwd: pkg, reject: false });

describe('bin/conform.js', () => {
  it('runs dist/ when it was built after every source, passing the arguments and the exit code', async () => {
    const result = await run();
    expect(result.stdout).toBe('from dist run --x');
    expect(result.exitCode).toBe(5);
  });

  it('runs the sources through tsx once a source is newer than the build', async () => {
    setTimes(join(pkg, 'src', 'cli', 'other.ts'), now);
    const result = await run();
    expect(result.stdout).toBe('from src run --x');
    expect(result.exitCode).toBe(4);
  });

  it('counts a deleted source as a change', async () => {
    rmSync(join(pkg, 'src', 'cli', 'other.ts'));
    expect((await run()).stdout).toBe('from src run --x');
  });

  it('runs the sources in a clone that was never built', async () => {
    rmSync(join(pkg, 'dist'), { recursive: true });
    expect((await run()).stdout).toBe('from src run --x');
  });

  it('runs dist/ in an installed package, which has no sources, however old the build', async () => {
    rmSync(join(pkg, 'src'), { recursive: true });
    setTimes(stamp(), now - 10_000_000);
    expect((await run()).stdout).toBe('from dist run --x');
  });

  it('says in one line, without a stack trace, when an installed package has no build', async () => {
    rmSync(join(pkg, 'src'), { recursive: true });
    rmSync(stamp());
    const result = await run();
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toBe(`conform: ${join(pkg, 'dist')} is missing or incomplete; reinstall conform (a tarball made with "npm pack" builds it)`);
  });
});
