import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/default-config.ts';
import type { RunSummary } from '../../src/core/types.ts';
import { ensureFixtureModel } from '../../src/engine/fixture-model/ensure-fixture-model.ts';
import { freePort } from '../../src/launch/free-port.ts';
import { launchBackend, type LaunchedBackend } from '../../src/launch/launch-backend.ts';
import { conform, makeProject, REPO } from '../helpers/conform-cli.ts';
import { readRunSummary } from '../../src/record/run-folder.ts';

// Real samples from the built-in cpu engine on the default suites that stream and run in seconds
// (smoke, function-calling, streaming), once through a proxy that forwards at once and once through
// one that holds every streamed request back by 500 ms, as a slower prefill would: both sides pay the
// same proxy hop, so the 500 ms is the only difference. The gate must judge TTFT and fail it.
const SUITES = ['smoke', 'function-calling', 'streaming'];
const DELAY_MS = 500;

let engine: LaunchedBackend | undefined;
const proxies: ResultPromise[] = [];
let [directUrl, slowUrl] = ['', ''];

async function startProxy(target: string, delayMs: number): Promise<string> {
  const port = await freePort();
  proxies.push(execa(process.execPath, [join(REPO, 'test', 'fixtures', 'servers', 'ttft-delay-proxy.mjs'), String(port), target, String(delayMs)], { reject: false, stdin: 'ignore' }));
  const url = `http://127.0.0.1:${port}/v1`;
  for (let i = 0; ; i++) {
    try {
      await (await request(`${url}/models`)).body.dump();
      return url;
    } catch (error) {
      if (i > 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

beforeAll(async () => {
  const { path } = await ensureFixtureModel(join(REPO, '.cache', 'conform'));
  const outcome = await launchBackend(DEFAULT_CONFIG.backends[0]!, { modelPath: path, logFile: join(mkdtempSync(join(tmpdir(), 'gate-ttft-')), 'cpu.log'), env: process.env });
  if (outcome.state !== 'ready') throw new Error(`conform serve cpu did not start: ${outcome.reason}`);
  engine = outcome.backend;
  const origin = new URL(engine.baseUrl).origin;
  [directUrl, slowUrl] = [await startProxy(origin, 0), await startProxy(origin, DELAY_MS)];
}, 180_000);
afterAll(async () => {
  for (const proxy of proxies) proxy.kill('SIGTERM');
  await Promise.all(proxies);
  await engine?.stop();
});

const config = (baseUrl: string) => `backends: [{ name: cpu, class: cpu, model: conform-tiny, baseUrl: "${baseUrl}" }]\nreference: cpu\n`;

function runDirOf(stdout: string): string {
  const dir = /Results: (\S+)/.exec(stdout)?.[1];
  expect(dir, stdout).toBeDefined();
  return dir!;
}

describe('a 500 ms TTFT inflation on the default suites', () => {
  it('is judged on enough paired streamed samples and fails the gate', async () => {
    const dir = makeProject([], { 'direct.yaml': config(directUrl), 'slow.yaml': config(slowUrl) });
    mkdirSync(join(dir, 'suites'));
    for (const suite of SUITES) copyFileSync(join(REPO, 'suites', `${suite}.yaml`), join(dir, 'suites', `${suite}.yaml`));
    const record = await conform(['record', '--config', 'direct.yaml'], { cwd: dir });
    expect(record.exitCode, `${record.stdout}\n${record.stderr}`).toBe(0);

    const baseline = await conform(['run', '--config', 'direct.yaml'], { cwd: dir });
    const slow = await conform(['run', '--config', 'slow.yaml'], { cwd: dir });
    const [baseDir, slowDir] = [runDirOf(baseline.stdout), runDirOf(slow.stdout)];
    const ttfts = (runDir: string) =>
      new Map(
        (readRunSummary(runDir, '/').summary).results
          .filter((r) => r.sample?.kind === 'ok' && r.sample.timings.firstTokenMs !== undefined)
          .map((r) => [r.id, r.sample!.timings.firstTokenMs!]),
      );
    const [before, after] = [ttfts(baseDir), ttfts(slowDir)];
    expect(after.size).toBeGreaterThanOrEqual(12);
    // The inflation really is about 500 ms per streamed case, not the proxy hop.
    const added = [...after].map(([id, ms]) => ms - before.get(id)!).sort((a, b) => a - b);
    expect(added[added.length >> 1]).toBeGreaterThan(DELAY_MS * 0.9);

    const gate = await conform(['gate', '--config', 'direct.yaml', '--baseline', baseDir, slowDir], { cwd: dir });
    expect(gate.exitCode, `${gate.stdout}\n${gate.stderr}`).toBe(1);
    expect(gate.stdout).toMatch(/FAIL {2}latency-regression +cpu: TTFT \d+\.\d+x the baseline on the median case \(limit \+25\.0 %\); one-sided Wilcoxon signed-rank over 1\d paired cases p=\S+ < α=0\.01/);

    // The same runs without the streaming suite: too few streamed samples, and TTFT goes unjudged.
    const without = (from: string, name: string) => {
      const summary = readRunSummary(from, '/').summary;
      const file = join(dir, `${name}.json`);
      writeFileSync(file, JSON.stringify({ ...summary, suites: summary.suites.filter((s) => s !== 'streaming'), results: summary.results.filter((r) => r.suite !== 'streaming') }));
      return file;
    };
    const unjudged = await conform(['gate', '--config', 'direct.yaml', '--baseline', without(baseDir, 'base-before'), without(slowDir, 'slow-before')], { cwd: dir });
    expect(unjudged.stdout).toMatch(/info {2}latency-not-enough-samples +cpu: TTFT not compared: not enough samples \(4 now, 4 in the baseline; policy minSamples 8 on each side\)/);
    expect(unjudged.stdout).not.toMatch(/latency-regression +cpu: TTFT/);
  }, 600_000);
});
