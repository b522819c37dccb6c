import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/core/types.ts';
import { createUserProject, DEV_VERSION, npmInstall, npx, packConform, runFolders, userEnv } from './user-project.ts';

// The same install into a CommonJS project (no "type": "module"): its conform.config.ts is compiled
// as CommonJS, so `import { defineConfig } from 'conform/config'` becomes a require of conform's
// ES module; and its type-check runs with the old `tsc --init` defaults (module commonjs, which
// ignores package exports) as well as with nodenext. One install for the whole file.
let project: string;

beforeAll(async () => {
  const tarball = await packConform();
  project = createUserProject({});
  const install = await npmInstall(project, [tarball, `typescript@${DEV_VERSION.typescript}`]);
  expect(install.exitCode, install.all).toBe(0);
  expect(install.all).not.toMatch(/allowScripts/);
}, 600_000);
// The project holds a full install (about 800 MB, node-llama-cpp's prebuilt binaries).
afterAll(() => project && rmSync(project, { recursive: true, force: true }));

const STEP_TIMEOUT = 300_000;
const COMMONJS_TSCONFIG = { compilerOptions: { target: 'es2016', module: 'commonjs', esModuleInterop: true, forceConsistentCasingInFileNames: true, strict: true, skipLibCheck: true, noEmit: true } };
const NODENEXT_TSCONFIG = { compilerOptions: { module: 'nodenext', target: 'esnext', strict: true, skipLibCheck: true, noEmit: true } };

describe('conform installed from a tarball into a CommonJS project', () => {
  it('init, record and run on cpu with the TypeScript config', async () => {
    expect(JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')).type).toBeUndefined();
    expect((await npx(project, ['conform', 'init'])).exitCode).toBe(0);
    const record = await npx(project, ['conform', 'record']);
    expect(record.exitCode, `${record.stdout}\n${record.stderr}`).toBe(0);
    expect(existsSync(join(project, 'golden', 'example.json'))).toBe(true);
    const run = await npx(project, ['conform', 'run', '--backend', 'cpu']);
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0);
    const summary = JSON.parse(readFileSync(join(runFolders(project).at(-1)!, 'summary.json'), 'utf8')) as RunSummary;
    expect(summary.suites).toEqual(['example']);
    expect(summary.totals).toEqual({ pass: 3, fail: 0, error: 0, skip: 0 });
  }, STEP_TIMEOUT);

  it('require("conform/config") works at run time', async () => {
    const result = await execa(process.execPath, ['-e', "const { defineConfig } = require('conform/config'); const c = { backends: [] }; process.stdout.write(String(defineConfig(c) === c));"], {
      cwd: project,
      env: userEnv(),
      extendEnv: false,
      reject: false,
    });
    expect(result.stdout, result.stderr).toBe('true');
  }, STEP_TIMEOUT);

  for (const [name, tsconfig] of [['module commonjs', COMMONJS_TSCONFIG], ['module nodenext', NODENEXT_TSCONFIG]] as const)
    it(`type-checks the config with ${name}, and catches a wrong field`, async () => {
      writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(tsconfig));
      const tsc = await npx(project, ['tsc', '-p', '.']);
      expect(tsc.exitCode, tsc.stdout).toBe(0);
      const config = readFileSync(join(project, 'conform.config.ts'), 'utf8');
      writeFileSync(join(project, 'conform.config.ts'), config.replace("reference: 'cpu'", 'reference: 1'));
      const wrong = await npx(project, ['tsc', '-p', '.']);
      writeFileSync(join(project, 'conform.config.ts'), config);
      expect(wrong.exitCode).not.toBe(0);
      expect(wrong.stdout).toMatch(/conform\.config\.ts\(\d+,\d+\): error TS2322: Type 'number' is not assignable to type 'string'/);
    }, STEP_TIMEOUT);
});
