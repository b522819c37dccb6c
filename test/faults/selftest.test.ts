import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FAULTS } from '../../src/faults/catalog.ts';
import { calibrate, runSelftest } from '../../src/faults/selftest.ts';
import type { CaseResult, GoldenFile, RunSummary, Suite } from '../../src/core/types.ts';
import { loadSuites } from '../../src/suites/load-suites.ts';
import { machineLoad } from '../../src/core/machine-load.ts';
import { asRecordedNow } from './recorded-now.ts';

const root = join(import.meta.dirname, '..', '..');
const suites: Suite[] = loadSuites(['suites/*.yaml'], root);
const goldens = new Map<string, GoldenFile>(suites.map((s) => [s.name, JSON.parse(readFileSync(join(root, 'golden', `${s.name}.json`), 'utf8')) as GoldenFile]));

/** A "clean run" in which the default matrix answered exactly as golden: cpu samples vs golden, and cpu-q8 and vulkan the same. */
function goldenRun(): RunSummary {
  const results: CaseResult[] = [];
  for (const suite of suites)
    for (const c of suite.cases)
      for (const backend of ['cpu', 'cpu-q8', 'vulkan']) {
        const sample = goldens.get(suite.name)!.samples[c.id];
        if (sample) results.push({ id: `${backend}/${suite.name}/${c.id}`, backend, suite: suite.name, caseId: c.id, status: 'pass', sample: asRecordedNow(structuredClone(sample), c), verdicts: [] });
      }
  const empty = { pass: 0, fail: 0, error: 0, skip: 0 };
  return {
    schemaVersion: 1, runId: 'golden', conformVersion: 'test', startedAt: '', finishedAt: '', suites: suites.map((s) => s.name), matrix: {}, totals: empty, results,
    backends: [
      { name: 'cpu', class: 'cpu', state: 'ran', identity: {} },
      { name: 'cpu-q8', class: 'cpu-q8', state: 'ran', identity: {} },
      { name: 'vulkan', class: 'software-gpu', state: 'ran', identity: {} },
    ],
  };
}

describe('selftest over the real golden files', () => {
  const result = runSelftest({ summary: goldenRun(), suites, goldens, reference: 'cpu' });
  const cells = (fault: string) => result.matrix.filter((m) => m.fault === fault);

  it('finds no false positive in the clean run', () => {
    expect(result.clean).toEqual([]);
  });

  const perCase = [...FAULTS.values()].filter((f) => f.kind === 'must-catch' && !f.expect.some((e) => e.startsWith('gate:')));
  it.each(perCase.map((f) => [f.name, f] as const))('catches %s with the expected check, case by case', (_name, fault) => {
    const mine = cells(fault.name);
    expect(mine.length).toBeGreaterThan(0);
    for (const cell of mine) {
      expect(cell.status, `${fault.name} in ${cell.suite}: ${cell.uncaught.join(', ')}`).toBe('caught');
      for (const id of cell.perturbed) expect(cell.flips.some((f) => f.caseId === id && fault.expect.includes(f.check)), `${fault.name} ${id}`).toBe(true);
    }
  });

  it("catches garbage on cpu-q8 with degeneration, under the class's wider loop limit", () => {
    const flips = cells('garbage-long-prompt').flatMap((c) => c.flips.filter((f) => f.backend === 'cpu-q8' && f.check === 'degeneration'));
    expect(flips.map((f) => f.caseId).sort()).toEqual(['cpu-q8:ctx-16k', 'cpu-q8:ctx-1k', 'cpu-q8:ctx-32k', 'cpu-q8:ctx-4k', 'cpu-q8:ctx-8k']);
    expect(cells('logprob-noise-large').some((c) => c.flips.some((f) => f.backend === 'cpu-q8' && f.check === 'greedy-divergence'))).toBe(true);
  });

  it('does not apply a leak to a sampled case, where no check on another backend could tell it from sampling', () => {
    const leak = FAULTS.get('output-leak')!;
    expect(leak.applies({ id: 's', endpoint: 'chat', messages: [], params: { temperature: 1, seed: 42 }, checks: [] })).toBe(false);
    expect(leak.applies({ id: 'g', endpoint: 'chat', messages: [], params: { temperature: 0 }, checks: [] })).toBe(true);
  });

  it('attributes a confident flip to the case and greedy-divergence', () => {
    const smoke = cells('confident-token-flip').find((c) => c.suite === 'smoke')!;
    expect(smoke.flips).toContainEqual(expect.objectContaining({ backend: 'vulkan', caseId: 'vulkan:chat-hello', check: 'greedy-divergence', from: 'pass', to: 'fail' }));
  });

  it('flags no must-pass fault, and each is exercised', () => {
    const mustPass = [...FAULTS.values()].filter((f) => f.kind === 'must-pass').map((f) => f.name);
    expect(mustPass).toEqual(['near-tie-flip', 'rank-swap-flip', 'forced-token-raw-logprob', 'logprob-noise-small']);
    for (const name of mustPass) {
      for (const cell of cells(name)) expect(cell.status, `${name} ${cell.suite} ${cell.uncaught}`).toBe('passed');
      expect(cells(name).reduce((n, c) => n + c.perturbed.length, 0), name).toBeGreaterThan(0);
    }
  });

  it('judges TTFT inflation through the gate latency test, on all suites at once', () => {
    const [cell] = cells('ttft-inflated-2x');
    expect(cell).toMatchObject({ suite: '(gate: all suites)' });
    expect(cell!.note).toMatch(/gate latency test/);
  });

  it('calibration of golden against itself shows no divergence and no drift', () => {
    const c = calibrate([goldenRun()], goldens, 'cpu');
    expect(c.samples).toBeGreaterThan(10);
    expect(c.divergences.every((d) => d.index === null)).toBe(true);
    expect(c.absDeltaLogprob.max).toBe(0);
    expect(c.meanKld).toBeCloseTo(0, 12);
  });
});

describe('selftest clean runs on a busy machine', () => {
  // The loaded run: vulkan's cold start took 190.9 s against 120 s and its warm start 33.2 s against 30 s,
  // most of it waiting behind other jobs for a CPU.
  function loadedRun(measured: boolean): RunSummary {
    const run = goldenRun();
    const starts: Record<string, { healthy: number; first: number; wait: [number, number] }> = {
      'cold-start': { healthy: 150_000, first: 40_900, wait: [95_000, 25_000] },
      'warm-start': { healthy: 32_000, first: 1_200, wait: [20_000, 700] },
    };
    for (const r of run.results) {
      const start = starts[r.caseId];
      if (r.backend !== 'vulkan' || r.suite !== 'cold-warm' || !start) continue;
      const life = r.sample!.lifecycle!;
      r.sample!.lifecycle = { ...life, spawnToHealthyMs: start.healthy, healthyToFirstAnswerMs: start.first, firstAnswerTtftMs: start.first };
      const steadyMs = life.steadyTtftMs.reduce((a, b) => a + b, 0);
      if (measured)
        r.sample!.machine = {
          ...machineLoad(start.healthy + start.first + steadyMs, start.wait[0] + start.wait[1]),
          phases: { spawnToHealthyMs: { wallMs: start.healthy, cpuWaitMs: start.wait[0] }, healthyToFirstAnswerMs: { wallMs: start.first, cpuWaitMs: start.wait[1] }, steadyMs: { wallMs: steadyMs, cpuWaitMs: 0 } },
        };
    }
    return run;
  }

  it('flags no start budget when the machine, not the backend, was slow', () => {
    expect(runSelftest({ summary: loadedRun(true), suites, goldens, reference: 'cpu' }).clean).toEqual([]);
  });

  it('still flags both starts on a record without a load measurement, and names them', () => {
    const clean = runSelftest({ summary: loadedRun(false), suites, goldens, reference: 'cpu' }).clean;
    expect(clean.map((f) => `${f.backend}/${f.suite}/${f.caseId}: ${f.checks.join(', ')}`)).toEqual(['vulkan/cold-warm/cold-start: start-budget', 'vulkan/cold-warm/warm-start: start-budget']);
  });

  it('says how slow the machine was beside a clean case it still flags', () => {
    const run = loadedRun(true);
    const warm = run.results.find((r) => r.backend === 'vulkan' && r.caseId === 'warm-start')!;
    // 130 s of the backend's own time: over 30 s however busy the machine was.
    warm.sample!.lifecycle = { ...warm.sample!.lifecycle!, spawnToHealthyMs: 150_000 };
    warm.sample!.machine!.phases!.spawnToHealthyMs = { wallMs: 150_000, cpuWaitMs: 20_000 };
    warm.sample!.machine = { ...warm.sample!.machine!, ...machineLoad(151_200, 20_700) };
    const result = runSelftest({ summary: run, suites, goldens, reference: 'cpu' });
    expect(result.clean).toEqual([expect.objectContaining({ caseId: 'warm-start', checks: ['start-budget'], slowdown: 1.159 })]);
    expect(result.problems.at(-1)).toMatch(/^clean run flagged vulkan\/cold-warm\/warm-start \(machine 1\.2× slow\): start-budget: /);
  });
});
