import { budgetForClass } from './class-budget.ts';
import type { Comparator } from './comparator.ts';

interface Budgets {
  spawnToReadyMs?: number;
  firstAnswerMs?: number;
  firstOverSteadyMax?: number;
}

/** Cold and warm start within budget: spawn → healthy → first real answer, and first-request TTFT against the steady state. */
export const startBudget: Comparator = {
  kind: 'start-budget',
  needsReference: false,
  compare({ sample, spec, backendClass, siblings }) {
    const life = sample.lifecycle;
    if (!life) return { check: 'start-budget', status: 'error', message: 'no lifecycle record: start-budget applies to lifecycle cases' };
    const ready = life.spawnToHealthyMs + life.healthyToFirstAnswerMs;
    const budgets: Budgets = {
      spawnToReadyMs: budgetForClass(spec.spawnToReadyMs, backendClass),
      firstAnswerMs: budgetForClass(spec.firstAnswerMs, backendClass),
      firstOverSteadyMax: budgetForClass(spec.firstOverSteadyMax, backendClass),
    };
    // The warm case names its cold twin, so the report can give the cold/warm ratio per backend.
    const cold = typeof spec.coldCase === 'string' ? siblings?.get(spec.coldCase)?.lifecycle : undefined;
    const coldOverWarm = cold ? (cold.spawnToHealthyMs + cold.healthyToFirstAnswerMs) / ready : undefined;
    const details = { ...life, readyMs: ready, budgets, ...(coldOverWarm !== undefined ? { coldOverWarm } : {}) };
    const ratio = coldOverWarm !== undefined ? `; cold/warm ${coldOverWarm.toFixed(1)}×` : '';
    const summary = `${life.start} start: healthy after ${(life.spawnToHealthyMs / 1000).toFixed(1)} s, first answer ${(life.healthyToFirstAnswerMs / 1000).toFixed(1)} s later, first TTFT ${life.firstAnswerTtftMs.toFixed(0)} ms = ${life.firstOverSteady.toFixed(1)}× steady${ratio}`;
    if (budgets.spawnToReadyMs !== undefined && ready > budgets.spawnToReadyMs)
      return { check: 'start-budget', status: 'fail', measured: ready, threshold: budgets.spawnToReadyMs, message: `${summary}; spawn to first answer ${ready.toFixed(0)} ms > ${budgets.spawnToReadyMs} ms`, details };
    if (budgets.firstAnswerMs !== undefined && life.healthyToFirstAnswerMs > budgets.firstAnswerMs)
      return { check: 'start-budget', status: 'fail', measured: life.healthyToFirstAnswerMs, threshold: budgets.firstAnswerMs, message: `${summary}; healthy but not answering for ${life.healthyToFirstAnswerMs.toFixed(0)} ms > ${budgets.firstAnswerMs} ms`, details };
    if (budgets.firstOverSteadyMax !== undefined && life.firstOverSteady > budgets.firstOverSteadyMax)
      return { check: 'start-budget', status: 'fail', measured: life.firstOverSteady, threshold: budgets.firstOverSteadyMax, message: `${summary}; above ${budgets.firstOverSteadyMax}×`, details };
    return { check: 'start-budget', status: 'pass', measured: ready, threshold: budgets.spawnToReadyMs ?? null, message: summary, details };
  },
};
