import type { Comparator } from './comparator.ts';

interface Budgets {
  spawnToReadyMs?: number;
  firstAnswerMs?: number;
  firstOverSteadyMax?: number;
}

/** A budget may be one number or a number per backend class, since software Vulkan compiles pipelines for tens of seconds. */
function budgetFor(value: unknown, backendClass: string | undefined): number | undefined {
  if (typeof value === 'number') return value;
  if (value && typeof value === 'object') {
    const byClass = value as Record<string, number>;
    return byClass[backendClass ?? ''] ?? byClass.default;
  }
  return undefined;
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
      spawnToReadyMs: budgetFor(spec.spawnToReadyMs, backendClass),
      firstAnswerMs: budgetFor(spec.firstAnswerMs, backendClass),
      firstOverSteadyMax: budgetFor(spec.firstOverSteadyMax, backendClass),
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
