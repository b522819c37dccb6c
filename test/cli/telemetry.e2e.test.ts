// Telemetry end to end through the real binary: `conform run` on the built-in cpu backend records
// tokens/s, cost per 1K (the config's example price), energy as null with the reason, and what it scraped
// from the engine's /metrics; the reports show it; a policy the figures violate makes `conform gate` exit
// 1 with the reason; `conform route` writes a table from the same run.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/core/types.ts';
import type { RoutingTable } from '../../src/routing/rank-backends.ts';
import { conform, makeProject, REPO } from '../helpers/conform-cli.ts';

describe('telemetry on the built-in cpu backend, end to end', () => {
  let project: string;
  let runDir: string;
  let summary: RunSummary;

  beforeAll(async () => {
    project = makeProject(['suites', 'golden', 'conform.config.ts']);
    const config = readFileSync(join(project, 'conform.config.ts'), 'utf8').replace('./src/', `${REPO}/src/`);
    writeFileSync(join(project, 'conform.config.ts'), config);
    const result = await conform(['run', '--backend', 'cpu', '--suite', 'smoke', '--suite', 'determinism'], { cwd: project, timeout: 600_000 });
    expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(0);
    runDir = /Results: (\S+)/.exec(result.stdout)![1]!;
    summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as RunSummary;
    expect(result.stdout).toMatch(/^ {2}throughput at concurrency 1 \(up to 8 in flight\), \d+ steady requests \(the first left out\): prefill [\d,.]+ tok\/s, decode [\d,.]+ tok\/s/m);
    expect(result.stdout).toMatch(/^ {2}energy: null: auto \(class cpu\) tried rapl: /m);
  }, 600_000);

  it('records throughput, cost per 1K tokens, energy as null with the reason, and the scraped metrics', () => {
    const t = summary.backends[0]!.telemetry!;
    expect(t.concurrency).toBe(1);
    expect(t.throughput.maxInFlight).toBe(8);
    for (const figure of ['prefillTokensPerSecond', 'decodeTokensPerSecond', 'tokensPerSecond'] as const) expect(t.throughput[figure], figure).toBeGreaterThan(0);
    expect(t.cost).toMatchObject({ basis: 'per-hour', perHour: 0.1, currency: 'USD', note: expect.stringMatching(/^example price/) });
    expect(t.cost!.per1kTokens).toBeCloseTo(0.1 / (3.6 * t.throughput.tokensPerSecond!), 12);
    expect(t.energy.joules).toBeNull();
    expect(t.energy.joulesPerOutputToken).toBeNull();
    expect(t.energy.reason).toMatch(existsSync('/sys/class/powercap') ? /rapl/ : /no \/sys\/class\/powercap on this machine/);
    expect(t.metrics).toMatchObject({ family: 'conform serve', failedScrapes: 0, intervalMs: 250 });
    expect(t.metrics!.scrapes).toBeGreaterThanOrEqual(2);
    expect(t.metrics!.summary.generatedTokens).toBeGreaterThan(0);
    // The determinism suite's cache-hit case: conform serve never reuses a prefix, and the report says so.
    expect(t.crossChecks).toContainEqual({ check: 'prefix-cache', status: 'flagged', message: expect.stringMatching(/^after-cache-hit: 3 identical requests in a row: prefix-cache hits did not rise/) });
    expect(t.crossChecks.find((c) => c.check === 'engine-ttft')?.message).toMatch(/^engine TTFT mean/);
  });

  it('shows them in summary.md, report.html and junit.xml', () => {
    const md = readFileSync(join(runDir, 'summary.md'), 'utf8');
    expect(md).toContain('### Throughput, cost and energy');
    expect(md).toMatch(/\| \*\*cpu\*\* \| 1 \(up to 8 in flight\) \| [\d,.]+ tok\/s \| [\d,.]+ tok\/s \| [\d,.]+ tok\/s \| [\d.]+ USD/);
    expect(md).toContain('⚠️ cpu: prefix-cache: after-cache-hit');
    const html = readFileSync(join(runDir, 'report.html'), 'utf8');
    for (const fragment of ['<section id="telemetry">', '<figure id="chart-queue">', '<figure id="chart-kv">']) expect(html).toContain(fragment);
    const junit = readFileSync(join(runDir, 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<property name="telemetry.costPer1kTokens" value="[\d.e-]+"\/>/);
    expect(junit).toContain('<property name="telemetry.joulesPerOutputToken" value="null"/>');
  });

  it('a cost ceiling the measured figure violates makes conform gate exit 1, with the reason', async () => {
    writeFileSync(join(project, 'cheap.yaml'), 'costPer1k: { max: 1.0e-9 }\njoulesPerToken: { max: 1 }\n');
    const gate = await conform(['gate', '--baseline', runDir, runDir, '--policy', 'cheap.yaml'], { cwd: project });
    expect(gate.exitCode, `${gate.stdout}\n${gate.stderr}`).toBe(1);
    expect(gate.stdout).toMatch(/FAIL {2}cost-over-limit +cpu: cost per 1K tokens [\d.e-]+ per 1K tokens is over the policy's ceiling 1e-9 per 1K tokens; one-sided Wilcoxon signed-rank over \d+ requests p=/);
    expect(gate.stdout).toMatch(/info {2}telemetry-not-judged +cpu: joules per output token not judged: /);
    writeFileSync(join(project, 'generous.yaml'), 'costPer1k: { max: 1000 }\n');
    const pass = await conform(['gate', '--baseline', runDir, runDir, '--policy', 'generous.yaml'], { cwd: project });
    expect(pass.exitCode, pass.stdout).toBe(0);
    expect(pass.stdout).toMatch(/cost and energy within policy:\n {4}cpu: cost per 1K tokens .* within the ceiling 1000 per 1K tokens/);
  }, 120_000);

  it('conform route writes a routing table and its explanation from the run', async () => {
    writeFileSync(
      join(project, 'route.yaml'),
      ['defaults: { requireSuites: [smoke] }', 'classes:', '  - { name: short-bursts, match: { maxPromptTokens: 512 }, ttft: { percentile: 90, maxMs: 60000 } }', '  - { name: long-prompts, match: { minPromptTokens: 1000 } }', ''].join('\n'),
    );
    const route = await conform(['route', runDir, '--policy', 'route.yaml'], { cwd: project });
    expect(route.stdout).toMatch(/^short-bursts: cpu$/m);
    const table = JSON.parse(readFileSync(join(runDir, 'routing.json'), 'utf8')) as RoutingTable;
    expect(table.classes.map((c) => c.name)).toEqual(['short-bursts', 'long-prompts']);
    expect(table.classes[0]).toMatchObject({ route: 'cpu', candidates: [{ backend: 'cpu', eligible: true }] });
    expect(table.classes[0]!.candidates[0]!.costPer1k).toBeGreaterThan(0);
    // The determinism suite's long prompt is the only one over 1,000 tokens here.
    expect(table.classes[1]!.candidates[0]!.requests).toBeGreaterThan(0);
    expect(route.exitCode, route.stdout).toBe(table.classes.every((c) => c.route) ? 0 : 1);
    expect(readFileSync(join(runDir, 'routing.md'), 'utf8')).toMatch(/\| \*\*short-bursts\*\* \(prompts of at most 512 tokens\) \| \*\*cpu\*\* \| the only backend that meets every constraint/);
  }, 120_000);
});
