import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/conform-cli.ts';

// Which modules a command loads, seen through a module loader hook in the real binary's process:
// a structural check that stays true however busy the machine is (the timing is bench/startup.ts).
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'conform-lazy-'));
  writeFileSync(
    join(dir, 'hooks.mjs'),
    "import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) {\n  if (url.startsWith('file:')) appendFileSync(process.env.LOADED_LIST, url + '\\n');\n  return next(url, context);\n}\n",
  );
  writeFileSync(join(dir, 'register.mjs'), "import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function modulesLoadedBy(args: string[]): Promise<string[]> {
  const list = join(dir, `${args.join('_').replace(/\W/g, '')}.txt`);
  writeFileSync(list, '');
  const result = await execa(process.execPath, ['--import', pathToFileURL(join(dir, 'register.mjs')).href, join(REPO, 'bin', 'conform.js'), ...args], {
    cwd: dir,
    env: { LOADED_LIST: list },
    reject: false,
  });
  expect(result.exitCode, result.stderr).toBe(0);
  return readFileSync(list, 'utf8').split('\n').filter(Boolean);
}

const from = (urls: string[], pkg: string) => urls.filter((u) => u.includes(`/node_modules/${pkg}/`));

describe('commands load only what they use', () => {
  it('--version and --help load no command and no dependency of one', async () => {
    for (const flag of ['--version', '--help']) {
      const loaded = await modulesLoadedBy([flag]);
      expect(loaded.filter((u) => /\/(src|dist)\/cli\/commands\//.test(u)), flag).toEqual([]);
      for (const pkg of ['node-llama-cpp', 'execa', 'undici', 'ajv', 'yaml']) expect(from(loaded, pkg), `${flag} loads ${pkg}`).toEqual([]);
    }
  });

  it('a command\'s --help loads neither the command nor any dependency: it is printed from command-help', async () => {
    for (const command of ['run', 'gate', 'report', 'serve', 'manifest']) {
      const loaded = await modulesLoadedBy([command, '--help']);
      expect(loaded.filter((u) => /\/(src|dist)\/cli\/commands\//.test(u)), command).toEqual([]);
      for (const pkg of ['node-llama-cpp', 'execa', 'undici', 'ajv', 'yaml', 'handlebars']) expect(from(loaded, pkg), `${command} --help loads ${pkg}`).toEqual([]);
    }
  });

  it('run loads its own command but never node-llama-cpp or serve', async () => {
    // --help after another flag goes to the command itself, which prints the same text.
    const loaded = await modulesLoadedBy(['run', '--variants', '--help']);
    expect(loaded.some((u) => /\/cli\/commands\/run\.(ts|js)$/.test(u))).toBe(true);
    expect(loaded.filter((u) => /\/cli\/commands\/serve\.(ts|js)$/.test(u))).toEqual([]);
    expect(from(loaded, 'node-llama-cpp')).toEqual([]);
  });

  it('serve is where node-llama-cpp comes in', async () => {
    const loaded = await modulesLoadedBy(['serve', '--port', '1', '--help']);
    expect(from(loaded, 'node-llama-cpp').length).toBeGreaterThan(0);
  });
});

describe('command-help', () => {
  it('prints what the command itself prints for --help, for every command', async () => {
    const { COMMAND_HELP } = await import('../../src/cli/command-help.ts');
    const { REPORTER_NAMES } = await import('../../src/reporters/index.ts');
    const { STARTER_SUITE_NAME } = await import('../../src/config/starter-files.ts');
    expect(COMMAND_HELP.report).toContain(`Reporters: ${REPORTER_NAMES.join(', ')} (default`);
    expect(COMMAND_HELP.init).toContain(`suites/${STARTER_SUITE_NAME}.yaml`);
    for (const [command, help] of Object.entries(COMMAND_HELP)) {
      const shortcut = await execa(process.execPath, [join(REPO, 'bin', 'conform.js'), command, '--help'], { reject: false });
      expect(shortcut.stdout, command).toBe(help);
    }
  });
});
