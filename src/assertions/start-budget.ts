import { judgeTimed, machineLoad, withoutWait } from '../core/machine-load.ts';
import { quantile } from '../core/statistics.ts';
import type { LifecycleRecord, MachineLoad, Sample, Verdict } from '../core/types.ts';
import { budgetForClass } from './class-budget.ts';
import type { Comparator } from './comparator.ts';

const CHECK = 'start-budget';

interface Budgets {
  spawnToReadyMs?: number;
  firstAnswerMs?: number;
  firstOverSteadyMax?: number;
  coldOverWarmMax?: number;
}

/** The parts of a start, each with the CPU wait measured inside it (absent for records made before conform measured load). */
interface StartLoad {
  ready?: MachineLoad;
  firstAnswer?: MachineLoad;
  steady?: MachineLoad;
}

function phase(machine: MachineLoad | undefined, ...names: string[]): MachineLoad | undefined {
  const parts = names.map((n) => machine?.phases?.[n]);
  if (parts.some((p) => !p)) return undefined;
  return machineLoad(parts.reduce((a, p) => a + p!.wallMs, 0), parts.reduce((a, p) => a + p!.cpuWaitMs, 0));
}

function startLoad(machine: MachineLoad | undefined): StartLoad {
  return { ready: phase(machine, 'spawnToHealthyMs', 'healthyToFirstAnswerMs'), firstAnswer: phase(machine, 'healthyToFirstAnswerMs'), steady: phase(machine, 'steadyMs') };
}

const readyOf = (life: LifecycleRecord) => life.spawnToHealthyMs + life.healthyToFirstAnswerMs;
const median = (xs: number[]) => (xs.length ? quantile(xs, 0.5) : NaN);

/** First-request TTFT over the steady TTFT, each with its own phase's CPU wait taken out, so load on one side does not tilt the ratio. */
function firstOverSteadyOf(life: LifecycleRecord, load: StartLoad): number {
  if (!load.firstAnswer || !load.steady) return life.firstOverSteady;
  return withoutWait(life.firstAnswerTtftMs, load.firstAnswer) / withoutWait(median(life.steadyTtftMs), load.steady);
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * Cold and warm start within budget: spawn → healthy → first real answer, the first request's TTFT against the
 * steady state, and a warm start against its cold twin. Every duration is judged on the time the backend had a
 * CPU (core/machine-load.ts): a busy machine is reported as such, and never fails the backend on its own.
 */
export const startBudget: Comparator = {
  kind: CHECK,
  needsReference: false,
  referencedCases: (spec) => (typeof spec.coldCase === 'string' ? [spec.coldCase] : []),
  compare({ sample, spec, backendClass, siblings }): Verdict {
    const life = sample.lifecycle;
    if (!life) return { check: CHECK, status: 'error', message: 'no lifecycle record: start-budget applies to lifecycle cases' };
    const ready = readyOf(life);
    const load = startLoad(sample.machine);
    const budgets: Budgets = {
      spawnToReadyMs: budgetForClass(spec.spawnToReadyMs, backendClass),
      firstAnswerMs: budgetForClass(spec.firstAnswerMs, backendClass),
      firstOverSteadyMax: budgetForClass(spec.firstOverSteadyMax, backendClass),
      coldOverWarmMax: budgetForClass(spec.coldOverWarmMax, backendClass),
    };
    const firstOverSteady = firstOverSteadyOf(life, load);
    // The warm case names its cold twin: both start the same way in the same run, so their ratio is the machine's own yardstick.
    const coldSample: Sample | undefined = typeof spec.coldCase === 'string' ? siblings?.get(spec.coldCase) : undefined;
    const cold = coldSample?.lifecycle;
    const coldOverWarm = cold ? withoutWait(readyOf(cold), startLoad(coldSample.machine).ready) / withoutWait(ready, load.ready) : undefined;

    const readyJudged = budgets.spawnToReadyMs !== undefined ? judgeTimed(ready, budgets.spawnToReadyMs, load.ready, 'spawn to first answer') : undefined;
    const firstJudged = budgets.firstAnswerMs !== undefined ? judgeTimed(life.healthyToFirstAnswerMs, budgets.firstAnswerMs, load.firstAnswer, 'healthy to first answer') : undefined;
    const slow = judgeTimed(ready, Number.POSITIVE_INFINITY, load.ready, 'spawn to first answer').note;

    const details = {
      ...life,
      readyMs: ready,
      budgets,
      ...(coldOverWarm !== undefined ? { coldOverWarm } : {}),
      ...(load.ready ? { load: { slowdown: load.ready.slowdown, cpuWaitMs: load.ready.cpuWaitMs, readyWithoutWaitMs: withoutWait(ready, load.ready), firstOverSteadyWithoutWait: firstOverSteady } } : {}),
    };
    const ratio = coldOverWarm !== undefined ? `; cold/warm ${coldOverWarm.toFixed(1)}×` : '';
    const summary = `${life.start} start: healthy after ${s(life.spawnToHealthyMs)}, first answer ${s(life.healthyToFirstAnswerMs)} later, first TTFT ${life.firstAnswerTtftMs.toFixed(0)} ms = ${firstOverSteady.toFixed(1)}× steady${ratio}${slow ? `; ${slow}` : ''}`;
    const fail = (measured: number, threshold: number, why: string): Verdict => ({ check: CHECK, status: 'fail', measured, threshold, message: `${summary}; ${why}`, details });

    if (readyJudged && !readyJudged.ok)
      return fail(ready, budgets.spawnToReadyMs!, `spawn to first answer ${ready.toFixed(0)} ms > ${budgets.spawnToReadyMs} ms${load.ready ? ` (${readyJudged.judgedMs.toFixed(0)} ms with the CPU wait taken out)` : ''}`);
    if (firstJudged && !firstJudged.ok)
      return fail(life.healthyToFirstAnswerMs, budgets.firstAnswerMs!, `healthy but not answering for ${life.healthyToFirstAnswerMs.toFixed(0)} ms > ${budgets.firstAnswerMs} ms${load.firstAnswer ? ` (${firstJudged.judgedMs.toFixed(0)} ms with the CPU wait taken out)` : ''}`);
    if (budgets.firstOverSteadyMax !== undefined && firstOverSteady > budgets.firstOverSteadyMax)
      return fail(firstOverSteady, budgets.firstOverSteadyMax, `first request ${firstOverSteady.toFixed(1)}× the steady TTFT > ${budgets.firstOverSteadyMax}×`);
    if (budgets.coldOverWarmMax !== undefined && coldOverWarm !== undefined && coldOverWarm > budgets.coldOverWarmMax)
      return fail(coldOverWarm, budgets.coldOverWarmMax, `cold start ${coldOverWarm.toFixed(1)}× the warm one > ${budgets.coldOverWarmMax}×`);
    return { check: CHECK, status: 'pass', measured: ready, threshold: budgets.spawnToReadyMs ?? null, message: summary, details };
  },
};
