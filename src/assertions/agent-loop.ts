import type { Verdict } from '../core/types.ts';
import { forcedToolName, shownToolChoice, toolChoiceForTurn } from '../agent/tool-choice.ts';
import type { Comparator } from './comparator.ts';

const CHECK = 'agent-loop';

function fail(measured: number | string, threshold: number | string, message: string, details?: Record<string, unknown>): Verdict {
  return { check: CHECK, status: 'fail', measured, threshold, message, ...(details ? { details } : {}) };
}

/**
 * A tool loop under injected faults, needing no reference: it finished within budget, no call ran out of
 * retries, retries stayed bounded, no side effect was applied twice, and the faults really happened.
 */
export const agentLoop: Comparator = {
  kind: CHECK,
  needsReference: false,
  compare({ sample, spec, testCase }) {
    const agent = sample.agent;
    // Without the schedule nobody can tell whether the loop was tested under faults at all.
    if (!agent || !Array.isArray(agent.faults))
      return fail('no fault schedule', 'agent record with fault schedule', 'the sample has no agent record with a fault schedule: agent-loop applies to agent cases');
    const settings = testCase.agent;
    const budgetMs = settings?.budgetMs;
    const maxTurns = settings?.maxTurns;
    const elapsed = Math.round(agent.elapsedMs);
    const summary = `${agent.turns} turn(s), ${agent.toolCalls.length} tool call(s), ${sample.retries} retries under ${agent.faults.length} injected fault(s) in ${elapsed} ms`;

    if (!agent.completed)
      return fail(`${agent.turns} turns, ${elapsed} ms`, `final answer within ${maxTurns ?? '?'} turns and ${budgetMs ?? '?'} ms`, `the loop did not reach a final answer: ${summary}`);
    if (budgetMs !== undefined && agent.elapsedMs > budgetMs)
      return fail(elapsed, budgetMs, `the loop finished over budget: ${elapsed} ms > ${budgetMs} ms (${summary})`);

    // Worst first: a duplicated side effect is a real double booking, not just a slow loop.
    const duplicated = agent.sideEffects.filter((s) => s.applied > 1);
    if (duplicated.length > 0) {
      const worst = duplicated.reduce((a, b) => (b.applied > a.applied ? b : a));
      return fail(worst.applied, 1, `duplicated side effect: ${worst.idempotencyKey} applied ${worst.applied} times; a retry was not recognised as the same call`, { duplicated });
    }

    const exhausted = agent.toolCalls.filter((c) => c.outcome === 'exhausted');
    if (exhausted.length > 0) {
      const first = exhausted[0]!;
      return fail(`${exhausted.length} exhausted`, '0 exhausted', `tool call ${first.name} (turn ${first.turn}) exhausted its retries after ${first.attempts} attempts`, { exhausted });
    }

    const perCall = settings?.maxToolRetries ?? 4;
    const bound = typeof spec.maxRetries === 'number' ? spec.maxRetries : perCall * agent.toolCalls.length;
    if (sample.retries > bound) return fail(sample.retries, bound, `${sample.retries} tool retries > ${bound} allowed (${summary})`);

    const certain = (settings?.faults ?? []).filter((f) => (f.toxicity ?? 1) >= 1);
    if (agent.toolCalls.length === 0) {
      // No tool call, no request through the proxy: say why the loop never reached its tools.
      const choice = toolChoiceForTurn(testCase, 0);
      const forced = forcedToolName(choice);
      const finish = `finish_reason ${sample.finishReason ?? 'none'}`;
      if (forced)
        return fail('no tool call', forced === 'required' ? 'a tool call' : `a call to ${forced}`, `the case asked for tool_choice ${shownToolChoice(choice)} and the answer had no tool call (${finish}), so the server ignored it: the loop never reached its tools and was not tested under faults`);
      if (certain.length > 0) return fail('no tool call', 'a tool call', `the model called no tool under tool_choice ${shownToolChoice(choice)} (${finish}): the loop was not tested under faults`);
    }

    // Tools were called and faults that always apply never showed up: the proxy was bypassed, the run proved nothing.
    if (certain.length > 0 && agent.faults.length === 0)
      return fail(0, '≥ 1 fault', `no fault was injected although ${certain.map((f) => f.type).join(', ')} always apply and ${agent.toolCalls.length} tool call(s) were made: the loop was not tested under faults`);

    return { check: CHECK, status: 'pass', measured: sample.retries, threshold: bound, message: `${summary}; no side effect applied twice` };
  },
};
