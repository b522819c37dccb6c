import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/core/types.ts';
import { conform, makeProject, REPO } from '../helpers/conform-cli.ts';

function summaryOf(stdout: string): RunSummary {
  const runDir = /Results: (\S+)/.exec(stdout)?.[1];
  expect(runDir, stdout).toBeDefined();
  return JSON.parse(readFileSync(join(runDir!, 'summary.json'), 'utf8')) as RunSummary;
}

describe('conform run, end to end on the built-in backends', () => {
  let project: string;
  beforeAll(() => {
    project = makeProject(['suites', 'golden', 'conform.config.ts']);
    // The copied config imports defineConfig by a relative path; point it back at the repo.
    const config = readFileSync(join(project, 'conform.config.ts'), 'utf8').replace('./src/', `${REPO}/src/`);
    writeFileSync(join(project, 'conform.config.ts'), config);
  });

  it('runs the smoke suite on cpu and vulkan, and both pass against golden recorded on cpu', async () => {
    const result = await conform(['run'], { cwd: project });
    expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toMatch(/^cpu\s+smoke\s+\d+\s+0\s+0\s+\d+$/m);
    expect(result.stdout).toMatch(/^vulkan\s+smoke\s+\d+\s+0\s+0\s+\d+$/m);
    const summary = summaryOf(result.stdout);
    const [cpu, vulkan] = ['cpu', 'vulkan'].map((name) => summary.backends.find((b) => b.name === name)!);
    expect(cpu!.state).toBe('ran');
    expect(vulkan!.state).toBe('ran');
    expect(cpu!.identity.engineVersion).toMatch(/node-llama-cpp 3\.21\.1/);
    expect(vulkan!.identity.gpu).toBe('vulkan');
    expect(vulkan!.identity.device).toBeTruthy();
    expect(summary.matrix.cpu!.smoke!.pass).toBeGreaterThanOrEqual(10);
    expect(summary.matrix.vulkan!.smoke!.pass).toBeGreaterThanOrEqual(10);
    expect(vulkan!.coldStart?.spawnToHealthyMs).toBeGreaterThan(0);
    const journal = readFileSync(join(project, 'reports', summary.runId, 'samples.jsonl'), 'utf8').trim().split('\n');
    expect(journal.filter((line) => line.includes('"type":"result"'))).toHaveLength(summary.results.length);
    expect(existsSync(join(project, 'reports', summary.runId, 'logs', 'vulkan.log'))).toBe(true);
  }, 300_000);

  it('reports vulkan as skipped, not failed, when no Vulkan driver exists', async () => {
    const noDriver = { VK_ICD_FILENAMES: '/nonexistent/icd.json', VK_DRIVER_FILES: '/nonexistent/icd.json' };
    const result = await conform(['run', '--backend', 'vulkan', '--suite', 'smoke'], { cwd: project, env: noDriver });
    expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(0);
    const summary = summaryOf(result.stdout);
    expect(summary.backends[0]).toMatchObject({ name: 'vulkan', state: 'skipped' });
    expect(summary.backends[0]!.reason).toMatch(/Vulkan/);
    expect(summary.totals).toMatchObject({ pass: 0, fail: 0, error: 0 });
    expect(summary.totals.skip).toBe(summary.results.length);
  }, 120_000);
});

describe('conform run on bad input', () => {
  it('names the file, line and pointer of a broken suite in one line, exits 2, shows no stack', async () => {
    const project = makeProject([], {
      'conform.config.yaml': 'backends: [{ name: x, class: cpu, model: m, baseUrl: "http://127.0.0.1:9/v1" }]\nsuites: ["*.yaml"]\n',
      'bad.yaml': 'suite: bad\ndescription: broken on purpose\ncases:\n  - id: one\n    messages: [{ role: user, content: hi }]\n    params: { max_tokens: ten }\n    checks: [{ kind: exact }]\n',
    });
    const result = await conform(['run'], { cwd: project });
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^conform run: bad\.yaml:6:\d+: \/cases\/0\/params\/max_tokens must be integer \(got "ten"\)$/)]);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('turns an unreachable backend into error verdicts and exit code 3, keeping the run record', async () => {
    const project = makeProject(['suites', 'golden'], {
      'conform.config.yaml': 'backends: [{ name: gone, class: gpu, model: m, baseUrl: "http://127.0.0.1:9/v1", requestTimeoutMs: 2000 }]\n',
    });
    const result = await conform(['run', '--suite', 'smoke'], { cwd: project });
    expect(result.exitCode, result.stderr).toBe(3);
    const summary = summaryOf(result.stdout);
    expect(summary.totals.error).toBe(summary.results.length);
    expect(summary.results[0]!.verdicts[0]!.message).toMatch(/gone|127\.0\.0\.1:9/);
  }, 60_000);

  it('turns the cases left after a backend dies into errors that carry its log tail', async () => {
    const server = join(REPO, 'test', 'fixtures', 'servers', 'dying-server.mjs');
    const project = makeProject(['suites', 'golden'], {
      'conform.config.yaml': `backends: [{ name: fragile, class: gpu, model: m, launch: { command: "${process.execPath}", args: ["${server}", "{port}", "2"] } }]\n`,
    });
    const result = await conform(['run', '--suite', 'smoke'], { cwd: project });
    expect(result.exitCode).not.toBe(0);
    const summary = summaryOf(result.stdout);
    expect(summary.backends[0]!.state).toBe('crashed');
    const errors = summary.results.filter((r) => r.status === 'error');
    expect(errors.length).toBeGreaterThan(5);
    expect(errors.at(-1)!.verdicts[0]!.message).toMatch(/died mid-run.*simulated segfault/);
  }, 60_000);
});
