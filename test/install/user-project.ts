// Helpers for the install tests: conform packed as `npm pack` makes it, installed into a fresh
// project of the user's in a temporary folder, and driven there with npx as a user would.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, execaSync } from 'execa';
import { REPO } from '../helpers/conform-cli.ts';

const PACKAGE = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string>; devDependencies: Record<string, string> };
export const CONFORM_VERSION = PACKAGE.version;
/** conform's pinned dependencies. */
export const DEPENDENCY_VERSION = PACKAGE.dependencies;
/** The versions conform itself is checked with, so the user's project type-checks with the same ones. */
export const DEV_VERSION = PACKAGE.devDependencies;

/**
 * The environment a user's shell would have: none of the npm_* variables that `npm test` sets
 * (npm reads npm_config_* as its own config, which would point the install at conform's clone),
 * and none of conform's own, so the project's defaults (its .cache/, golden/, reports/) apply.
 */
export function userEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !/^(npm_|INIT_CWD$|CONFORM_|VITEST)/i.test(key)) env[key] = value;
  return env;
}

// What npm pack reads; a tarball is reused only while none of these changed.
const PACK_INPUTS = ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md', 'scripts', 'bin', 'src', 'schemas', 'suites', 'golden'];

function inputsKey(): string {
  const hash = createHash('sha256');
  for (const input of PACK_INPUTS) {
    const path = join(REPO, input);
    const files = statSync(path).isDirectory() ? readdirSync(path, { recursive: true }).map((f) => join(input, String(f))).sort() : [input];
    for (const file of files) {
      const stat = statSync(join(REPO, file));
      hash.update(`${file}\0${stat.size}\0${stat.mtimeMs}\0`);
    }
  }
  return hash.digest('hex').slice(0, 16);
}

/** Packs conform with `npm pack` (which runs its prepack build) into a folder keyed by its inputs, once per change. */
export async function packConform(): Promise<string> {
  const key = inputsKey();
  const root = join(tmpdir(), 'conform-e2e-pack');
  const dir = join(root, key);
  const tarball = join(dir, `conform-${CONFORM_VERSION}.tgz`);
  if (existsSync(tarball)) return tarball;
  // Tarballs of earlier inputs will not be asked for again.
  if (existsSync(root)) for (const old of readdirSync(root)) if (old !== key) rmSync(join(root, old), { recursive: true, force: true });
  const staging = join(dir, `staging-${process.pid}`);
  mkdirSync(staging, { recursive: true });
  const result = await execa('npm', ['pack', '--pack-destination', staging], { cwd: REPO, env: userEnv(), extendEnv: false, reject: false, all: true });
  if (result.exitCode !== 0) throw new Error(`npm pack failed (${result.exitCode}):\n${result.all}`);
  renameSync(join(staging, `conform-${CONFORM_VERSION}.tgz`), tarball);
  rmSync(staging, { recursive: true, force: true });
  return tarball;
}

/** An empty project of the user's: its own package.json, denying the two install scripts conform does not need. */
export function createUserProject(packageJson: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'conform-user-project-'));
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'user-project', version: '1.0.0', private: true, ...packageJson, allowScripts: { esbuild: false, 'node-llama-cpp': false } }, null, 2)}\n`);
  return dir;
}

/**
 * One `npm install` into the project, as a user adds conform from a tarball (the npm cache is used
 * first). --strict-allow-scripts fails the install if any dependency, conform included, has an
 * install script that the project's allowScripts does not decide.
 */
export function npmInstall(project: string, specs: string[]) {
  return execa('npm', ['install', '--save-dev', '--no-audit', '--no-fund', '--prefer-offline', '--strict-allow-scripts', ...specs], { cwd: project, env: userEnv(), extendEnv: false, reject: false, all: true, timeout: 540_000 });
}

/** Runs a locally installed binary with npx; --no makes npx fail instead of fetching a package when the local one is missing, and -- keeps flags such as --version the binary's. */
export function npx(project: string, args: string[], timeout = 240_000) {
  return execa('npx', ['--no', '--', ...args], { cwd: project, env: userEnv(), extendEnv: false, reject: false, timeout });
}

/** Whether this machine has a Vulkan loader and a driver: then the built-in vulkan backend must run, not be skipped. */
export function hasVulkan(): boolean {
  const icdDir = '/usr/share/vulkan/icd.d';
  const loader = (() => {
    try {
      return execaSync('ldconfig', ['-p']).stdout.includes('libvulkan.so.1');
    } catch {
      return false;
    }
  })();
  return loader && existsSync(icdDir) && readdirSync(icdDir).some((f) => f.endsWith('.json'));
}

/** The run folders under the project's reports/, oldest first. */
export function runFolders(project: string): string[] {
  const reports = join(project, 'reports');
  return existsSync(reports) ? readdirSync(reports).filter((d) => existsSync(join(reports, d, 'summary.json'))).sort().map((d) => join(reports, d)) : [];
}
