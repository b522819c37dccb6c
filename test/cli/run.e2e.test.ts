import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/core/types.ts';
import { conform, makeProject, REPO } from '../helpers/conform-cli.ts';
import { launchChromium, openFile } from '../reporters/browser.ts';

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

  it('runs every suite on cpu, cpu-q8 and vulkan, all pass against golden recorded on cpu, and the HTML report loads cleanly', async () => {
    const result = await conform(['run'], { cwd: project, timeout: 900_000 });
    expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(0);
    const suites = ['cold-warm', 'determinism', 'function-calling', 'long-context', 'smoke', 'tool-use-jitter'];
    for (const backend of ['cpu', 'cpu-q8', 'vulkan'])
      for (const suite of suites) expect(result.stdout, `${backend}/${suite}`).toMatch(new RegExp(`^${backend}\\s+${suite}\\s+\\d+\\s+0\\s+0\\s+\\d+$`, 'm'));
    const summary = summaryOf(result.stdout);
    const [cpu, cpuQ8, vulkan] = ['cpu', 'cpu-q8', 'vulkan'].map((name) => summary.backends.find((b) => b.name === name)!);
    expect(cpu!.state).toBe('ran');
    // The quantized backend, judged against the F32 golden with its own class, loop limit included.
    expect(cpuQ8).toMatchObject({ state: 'ran', class: 'cpu-q8', tolerance: { prefixLogprobDelta: 0.57, degeneration: { loopCoverage: 0.75 }, distribution: { maxRmsDeltaP: 0.03 } } });
    expect(summary.matrix['cpu-q8']!.smoke!.pass).toBeGreaterThanOrEqual(10);
    expect(vulkan!.state).toBe('ran');
    expect(cpu!.identity.engineVersion).toMatch(/node-llama-cpp 3\.21\.1/);
    expect(vulkan!.identity.gpu).toBe('vulkan');
    expect(vulkan!.identity.device).toBeTruthy();
    expect(summary.matrix.cpu!.smoke!.pass).toBeGreaterThanOrEqual(10);
    expect(summary.matrix.vulkan!.smoke!.pass).toBeGreaterThanOrEqual(10);
    expect(vulkan!.coldStart?.spawnToHealthyMs).toBeGreaterThan(0);
    expect(vulkan!.latency?.e2elMs.count).toBeGreaterThan(0);
    // Prompts beyond software Vulkan's 4K cap are skips that say why, never silent drops.
    const capped = summary.results.filter((r) => r.backend === 'vulkan' && r.suite === 'long-context' && r.status === 'skip');
    expect(capped.map((r) => r.caseId).sort()).toEqual(['ctx-16k', 'ctx-32k', 'ctx-8k']);
    expect(capped[0]!.verdicts[0]!.message).toMatch(/capped at 4096 prompt tokens/);
    const runDir = join(project, 'reports', summary.runId);
    const journal = readFileSync(join(runDir, 'samples.jsonl'), 'utf8').trim().split('\n');
    expect(journal.filter((line) => line.includes('"type":"result"'))).toHaveLength(summary.results.length);
    expect(existsSync(join(runDir, 'logs', 'vulkan.log'))).toBe(true);
    for (const file of ['junit.xml', 'summary.md', 'report.html']) expect(existsSync(join(runDir, file)), file).toBe(true);

    const browser = await launchChromium();
    try {
      const loaded = await openFile(browser, join(runDir, 'report.html'));
      expect(loaded.consoleErrors).toEqual([]);
      expect(loaded.pageErrors).toEqual([]);
      expect(loaded.requests).toEqual([loaded.url]);
      expect(await loaded.page.locator('h1').innerText()).toContain(summary.runId);
      expect(await loaded.page.locator('#matrix table.matrix tbody tr').count()).toBeGreaterThanOrEqual(3);
      expect(await loaded.page.locator('details.case').count()).toBe(summary.results.length);
      for (const id of ['chart-ttft', 'chart-cdf', 'chart-cold-start']) expect(await loaded.page.locator(`#${id} svg`).isVisible(), id).toBe(true);
      await loaded.close();
    } finally {
      await browser.close();
    }
  }, 900_000);

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
