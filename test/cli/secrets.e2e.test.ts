import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { conform, makeProject, REPO } from '../helpers/conform-cli.ts';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('API keys', () => {
  it('never reach a report, a log, a golden file or the console, even when the server echoes them', async () => {
    const key = 'sk-conform-secret-5b9e2f7a1c';
    const server = join(REPO, 'test', 'fixtures', 'servers', 'echo-key-server.mjs');
    const suite = [
      'suite: echo',
      'description: a server that echoes credentials',
      'cases:',
      '  - { id: ok, messages: [{ role: user, content: hello }], checks: [{ kind: exact }] }',
      '  - { id: refused, messages: [{ role: user, content: please fail }], checks: [{ kind: exact }] }',
    ].join('\n');
    const project = makeProject([], {
      'conform.config.yaml': `backends: [{ name: echo, class: gpu, model: m, apiKeyEnv: ECHO_API_KEY, launch: { command: "${process.execPath}", args: ["${server}", "{port}"] } }]\nsuites: ["suites/*.yaml"]\nreference: echo\n`,
    });
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(join(project, 'suites'));
    writeFileSync(join(project, 'suites', 'echo.yaml'), suite);
    const env = { ECHO_API_KEY: key };
    const record = await conform(['record'], { cwd: project, env });
    const run = await conform(['run'], { cwd: project, env });
    const backends = await conform(['backends', '--json'], { cwd: project, env });
    const outputs = [record, run, backends].flatMap((r) => [r.stdout, r.stderr]);
    expect(run.stdout).toMatch(/echo\s+echo/); // it really ran
    expect(outputs.join('\n')).toContain('[REDACTED]'); // the server did echo it
    for (const text of outputs) expect(text).not.toContain(key);
    const written = filesUnder(project).filter((f) => !f.endsWith('.yaml'));
    expect(written.some((f) => f.endsWith('samples.jsonl'))).toBe(true);
    for (const file of written) expect(readFileSync(file, 'utf8'), file).not.toContain(key);
  }, 60_000);
});
