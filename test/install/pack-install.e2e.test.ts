import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GoldenFile, RunSummary } from '../../src/core/types.ts';
import { CONFORM_VERSION, createUserProject, DEPENDENCY_VERSION, DEV_VERSION, hasVulkan, npmInstall, npx, packConform, runFolders } from './user-project.ts';
import { readRunSummary } from '../../src/record/run-folder.ts';

// conform as a team adds it to its own repository: npm pack, then an empty ES-module project that
// installs the tarball (with typescript and vitest of its own), runs init, record and run on the
// three built-in backends, type-checks against conform/config and conform/vitest, and uses
// conform/vitest in its own vitest run. One install for the whole file; each step builds on the last.
let project: string;
let installed: string;
const SHIPPED_SUITES = readdirSync(new URL('../../suites/', import.meta.url)).filter((f) => f.endsWith('.yaml')).length;

beforeAll(async () => {
  const tarball = await packConform();
  project = createUserProject({ type: 'module' });
  const install = await npmInstall(project, [tarball, `typescript@${DEV_VERSION.typescript}`, `vitest@${DEV_VERSION.vitest}`, `@types/node@${DEV_VERSION['@types/node']}`]);
  expect(install.exitCode, install.all).toBe(0);
  // The project denies esbuild's and node-llama-cpp's install scripts, and conform has none of its own.
  expect(install.all).not.toMatch(/allowScripts/);
  installed = join(project, 'node_modules', 'conform');
}, 600_000);
// The project holds a full install (about 800 MB, node-llama-cpp's prebuilt binaries).
afterAll(() => project && rmSync(project, { recursive: true, force: true }));

// Each step starts real engines; vulkan on llvmpipe takes tens of seconds to come up on a busy machine.
const STEP_TIMEOUT = 300_000;
const summaryOf = (folder: string) => readRunSummary(folder, '/').summary;

describe('conform installed from a tarball into an ES-module project', () => {
  it('holds the compiled build and none of the sources, and starts from it', async () => {
    expect(existsSync(join(installed, 'dist', 'cli', 'main.js'))).toBe(true);
    expect(existsSync(join(installed, 'dist', 'config', 'define-config.d.ts'))).toBe(true);
    expect(existsSync(join(installed, 'src'))).toBe(false);
    const version = await npx(project, ['conform', '--version']);
    expect(version.exitCode, version.stderr).toBe(0);
    expect(version.stdout).toBe(CONFORM_VERSION);
  }, STEP_TIMEOUT);

  it('init writes a starter config and suite into the project and says what to do next', async () => {
    const init = await npx(project, ['conform', 'init']);
    expect(init.exitCode, init.stderr).toBe(0);
    expect(init.stdout).toContain('npx conform record');
    expect(readFileSync(join(project, 'conform.config.ts'), 'utf8')).toContain("from 'conform/config'");
    expect(readFileSync(join(project, 'suites', 'example.yaml'), 'utf8')).toContain('$schema=../node_modules/conform/schemas/suite.schema.json');
    expect(existsSync(join(project, 'node_modules', 'conform', 'schemas', 'suite.schema.json'))).toBe(true);
    expect((await npx(project, ['conform', 'init'])).exitCode).toBe(2);
  }, STEP_TIMEOUT);

  it('record writes the starter suite\'s golden into the project, from cpu', async () => {
    const record = await npx(project, ['conform', 'record']);
    expect(record.exitCode, `${record.stdout}\n${record.stderr}`).toBe(0);
    const golden = JSON.parse(readFileSync(join(project, 'golden', 'example.json'), 'utf8')) as GoldenFile;
    expect(golden.provenance.backend).toBe('cpu');
    expect(Object.keys(golden.samples).sort()).toEqual(['chat-hello', 'chat-stream', 'tool-call']);
    expect(existsSync(join(project, '.cache', 'conform'))).toBe(true);
    expect(existsSync(join(installed, 'golden', 'example.json'))).toBe(false);
  }, STEP_TIMEOUT);

  it('run runs every built-in backend and writes its reports into the project', async () => {
    const run = await npx(project, ['conform', 'run']);
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0);
    const folder = runFolders(project).at(-1)!;
    for (const file of ['samples.jsonl', 'summary.json', 'junit.xml', 'summary.md', 'report.html', join('logs', 'cpu.log')]) expect(existsSync(join(folder, file)), file).toBe(true);
    const summary = summaryOf(folder);
    const states = Object.fromEntries(summary.backends.map((b) => [b.name, b]));
    expect(states.cpu!.state).toBe('ran');
    // The quantized backend, judged against golden recorded on cpu (F32) with its own class.
    expect(states['cpu-q8']).toMatchObject({ state: 'ran', class: 'cpu-q8' });
    expect(summary.matrix['cpu-q8']!.example).toEqual({ pass: 3, fail: 0, error: 0, skip: 0 });
    // Read from node-llama-cpp's own package.json, wherever npm put it (an assumed path crashed every command).
    expect(states.cpu!.identity.engineVersion).toMatch(new RegExp(`^node-llama-cpp ${DEPENDENCY_VERSION['node-llama-cpp']!.replace(/\./g, '\\.')}, llama\\.cpp `));
    if (hasVulkan()) {
      expect(states.vulkan!.state, states.vulkan!.reason).toBe('ran');
      expect(summary.totals).toEqual({ pass: 9, fail: 0, error: 0, skip: 0 });
    } else {
      // No Vulkan loader or driver on this machine: the skip must say so, and cpu and cpu-q8 pass.
      expect(states.vulkan!.state).toBe('skipped');
      expect(states.vulkan!.reason).toMatch(/Vulkan/);
      expect(summary.totals).toEqual({ pass: 6, fail: 0, error: 0, skip: 3 });
    }
    expect(existsSync(join(installed, 'reports'))).toBe(false);
  }, STEP_TIMEOUT);

  it('runs a bundled suite by name against the golden shipped with conform', async () => {
    const run = await npx(project, ['conform', 'run', '--suite', 'conform:smoke', '--backend', 'cpu']);
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0);
    const summary = summaryOf(runFolders(project).at(-1)!);
    expect(summary.suites).toEqual(['smoke']);
    expect(summary.totals.pass).toBeGreaterThan(0);
    expect(summary.totals).toMatchObject({ fail: 0, error: 0 });
    expect(existsSync(join(project, 'golden', 'smoke.json'))).toBe(false);
    const unknown = await npx(project, ['conform', 'run', '--suite', 'conform:nope']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    expect(unknown.stderr).toContain('conform:smoke');
    expect(unknown.stderr.match(/conform:[\w-]+/g)!.length).toBe(SHIPPED_SUITES + 1);
  }, STEP_TIMEOUT);

  it('type-checks the config and a test against conform/config and conform/vitest, and catches a wrong one', async () => {
    // What `tsc --init` of TypeScript 5.9 writes, less the options that only shape emitted files, with Node's types.
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'nodenext', target: 'esnext', types: ['node'], noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: true, strict: true, verbatimModuleSyntax: true, isolatedModules: true, noUncheckedSideEffectImports: true, moduleDetection: 'force', skipLibCheck: true, noEmit: true } }),
    );
    mkdirSync(join(project, 'test'));
    // conform/vitest before vitest on purpose: the matcher types must not depend on import order.
    writeFileSync(
      join(project, 'test', 'conformance.test.ts'),
      [
        "import { describeRunRecord, installConformMatchers, type ConformWithOptions } from 'conform/vitest';",
        "import { readFileSync } from 'node:fs';",
        "import { expect, it } from 'vitest';",
        '',
        'installConformMatchers();',
        "const golden = JSON.parse(readFileSync('golden/example.json', 'utf8'));",
        "const options: ConformWithOptions = { checks: [{ kind: 'greedy-divergence' }, { kind: 'distribution' }] };",
        "it('a recorded sample conforms with itself', () => {",
        "  expect(golden.samples['chat-hello']).toConformWith(golden.samples['chat-hello'], options);",
        '});',
        `describeRunRecord(${JSON.stringify(join(runFolders(project)[0]!, 'summary.json'))});`,
        '',
      ].join('\n'),
    );
    const tsc = await npx(project, ['tsc', '--noEmit']);
    expect(tsc.exitCode, tsc.stdout).toBe(0);
    writeFileSync(
      join(project, 'wrong.ts'),
      "import { defineConfig } from 'conform/config';\nimport 'conform/vitest';\nimport { expect } from 'vitest';\nexpect(1).toConformWith({ kind: 'ok' });\nexport default defineConfig({ backends: [{ name: 'x', class: 'cpu', model: 'm', baseUrl: 8080 }] });\n",
    );
    const wrong = await npx(project, ['tsc', '--noEmit']);
    rmSync(join(project, 'wrong.ts'));
    expect(wrong.exitCode).not.toBe(0);
    expect(wrong.stdout).toMatch(/wrong\.ts\(4,\d+\): error TS\d+/);
    expect(wrong.stdout).toMatch(/wrong\.ts\(5,\d+\): error TS2322: Type 'number' is not assignable to type 'string'/);
  }, STEP_TIMEOUT);

  it('runs conform/vitest in the project\'s own vitest', async () => {
    const vitest = await npx(project, ['vitest', 'run', '--reporter=verbose']);
    expect(vitest.exitCode, `${vitest.stdout}\n${vitest.stderr}`).toBe(0);
    expect(vitest.stdout).toContain('a recorded sample conforms with itself');
    expect(vitest.stdout).toMatch(/cpu.*example.*chat-hello/);
  }, STEP_TIMEOUT);
});
