import { describe, expect, it } from 'vitest';
import { startBudget } from '../../src/assertions/start-budget.ts';
import { machineLoad } from '../../src/core/machine-load.ts';
import type { CheckSpec, LifecycleRecord, MachineLoad, Sample } from '../../src/core/types.ts';
import { input, sample } from './samples.ts';

function lifecycle(record: Partial<LifecycleRecord> = {}): LifecycleRecord {
  const base = { start: 'cold' as const, spawnToHealthyMs: 5_000, healthyToFirstAnswerMs: 20_000, firstAnswerTtftMs: 20_000, steadyTtftMs: [500, 500, 500] };
  const life = { ...base, ...record };
  return { ...life, firstOverSteady: life.firstAnswerTtftMs / 500 };
}

/** A machine record whose phases waited the given milliseconds for a CPU. */
function machine(life: LifecycleRecord, wait: { spawn?: number; first?: number; steady?: number }): MachineLoad {
  const steadyWall = life.steadyTtftMs.reduce((a, b) => a + b, 0);
  const phases = {
    spawnToHealthyMs: { wallMs: life.spawnToHealthyMs, cpuWaitMs: wait.spawn ?? 0 },
    healthyToFirstAnswerMs: { wallMs: life.healthyToFirstAnswerMs, cpuWaitMs: wait.first ?? 0 },
    steadyMs: { wallMs: steadyWall, cpuWaitMs: wait.steady ?? 0 },
  };
  const wall = life.spawnToHealthyMs + life.healthyToFirstAnswerMs + steadyWall;
  return { ...machineLoad(wall, (wait.spawn ?? 0) + (wait.first ?? 0) + (wait.steady ?? 0)), phases };
}

const judge = (s: Sample, spec: Omit<CheckSpec, 'kind'>, siblings?: Map<string, Sample>, backendClass = 'software-gpu') =>
  startBudget.compare({ ...input({ sample: s, spec: { kind: 'start-budget', ...spec } }), siblings, backendClass });

describe('start-budget', () => {
  it('judges wall time as before on records made without a load measurement', () => {
    const v = judge(sample({ lifecycle: lifecycle() }), { spawnToReadyMs: { default: 10_000, 'software-gpu': 20_000 } });
    expect(v.status).toBe('fail');
    expect(v.measured).toBe(25_000);
    expect(v.threshold).toBe(20_000);
    expect(v.message).toMatch(/spawn to first answer 25000 ms > 20000 ms$/);
  });

  it('passes a start over its budget only by the time the backend waited for a CPU, and says the machine was slow', () => {
    // The vulkan cold start: 190.9 s against 120 s, on a machine shared with other jobs.
    const life = lifecycle({ spawnToHealthyMs: 150_000, healthyToFirstAnswerMs: 40_900, firstAnswerTtftMs: 40_900 });
    const v = judge(sample({ lifecycle: life, machine: machine(life, { spawn: 100_000, first: 20_000 }) }), { spawnToReadyMs: { default: 30_000, 'software-gpu': 120_000 } });
    expect(v.status).toBe('pass');
    expect(v.measured).toBe(190_900);
    expect(v.message).toContain("machine was slow: the backend's processes waited 120.0 s of 190.9 s for a CPU (2.7× slowdown); spawn to first answer 70.9 s without the wait");
    expect(v.details).toMatchObject({ load: { cpuWaitMs: 120_000, readyWithoutWaitMs: 70_900 } });
  });

  it('must catch: a start that is too slow even without its CPU wait', () => {
    const life = lifecycle({ spawnToHealthyMs: 300_000, healthyToFirstAnswerMs: 100_000 });
    const v = judge(sample({ lifecycle: life, machine: machine(life, { spawn: 150_000, first: 50_000 }) }), { spawnToReadyMs: 120_000 });
    expect(v.status).toBe('fail');
    expect(v.message).toMatch(/spawn to first answer 400000 ms > 120000 ms \(200000 ms with the CPU wait taken out\)$/);
  });

  it('must catch: healthy long before it answers, where the wait was sleep and not load', () => {
    const life = lifecycle({ spawnToHealthyMs: 1_000, healthyToFirstAnswerMs: 12_000, firstAnswerTtftMs: 12_000 });
    const v = judge(sample({ lifecycle: life, machine: machine(life, { spawn: 500, first: 100 }) }), { firstAnswerMs: 5_000 });
    expect(v.status).toBe('fail');
    expect(v.message).toMatch(/healthy but not answering for 12000 ms > 5000 ms \(11900 ms with the CPU wait taken out\)$/);
  });

  it('judges the first answer against the steady TTFT with each side’s own wait taken out, so load on one side cannot hide a slow first answer', () => {
    // Steady requests all waited behind other work: 500 ms as measured, 50 ms of it the backend's own. The first
    // answer, 1 s of the backend's own work, is 20x that: as on a quiet machine, where steady TTFT is 50 ms.
    const life = lifecycle({ healthyToFirstAnswerMs: 1_000, firstAnswerTtftMs: 1_000 });
    const loaded = judge(sample({ lifecycle: life, machine: machine(life, { steady: 1_350 }) }), { firstOverSteadyMax: 5 });
    expect(loaded).toMatchObject({ status: 'fail', threshold: 5 });
    expect(loaded.measured).toBeCloseTo(20, 9);
    const quiet = lifecycle({ healthyToFirstAnswerMs: 1_000, firstAnswerTtftMs: 1_000, steadyTtftMs: [50, 50, 50] });
    expect(judge(sample({ lifecycle: { ...quiet, firstOverSteady: 20 } }), { firstOverSteadyMax: 5 }).status).toBe('fail');
  });

  it('compares a warm start with its cold twin, both without their wait', () => {
    const coldLife = lifecycle({ spawnToHealthyMs: 50_000, healthyToFirstAnswerMs: 50_000 });
    const warmLife = lifecycle({ start: 'warm', spawnToHealthyMs: 5_000, healthyToFirstAnswerMs: 5_000 });
    // Quiet: cold 10x warm, over a 5x limit.
    const quiet = judge(sample({ lifecycle: warmLife }), { coldCase: 'cold', coldOverWarmMax: 5 }, new Map([['cold', sample({ lifecycle: coldLife })]]));
    expect(quiet).toMatchObject({ status: 'fail', threshold: 5 });
    expect(quiet.measured).toBeCloseTo(10, 9);
    // The cold start took 10x only because the machine was busy during it: 4x once its wait is out.
    const coldLoaded = sample({ lifecycle: coldLife, machine: machine(coldLife, { spawn: 30_000, first: 30_000 }) });
    const v = judge(sample({ lifecycle: warmLife }), { coldCase: 'cold', coldOverWarmMax: 5 }, new Map([['cold', coldLoaded]]));
    expect(v.status).toBe('pass');
    expect(v.message).toContain('cold/warm 4.0×');
  });

  it('is an error on a sample that is not a lifecycle record', () => {
    expect(judge(sample(), { spawnToReadyMs: 1 })).toMatchObject({ status: 'error', message: expect.stringMatching(/no lifecycle record/) });
  });
});
