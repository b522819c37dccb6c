import { describe, expect, it } from 'vitest';
import { agentLoop } from '../../src/assertions/agent-loop.ts';
import { COMPARATORS } from '../../src/assertions/index.ts';
import type { AgentRecord, Case, CheckSpec, Sample } from '../../src/core/types.ts';
import { sample, TOL } from '../assertions/samples.ts';

const testCase: Case = {
  id: 'book',
  endpoint: 'agent',
  messages: [{ role: 'user', content: 'Book a table.' }],
  params: {},
  checks: [{ kind: 'agent-loop' }],
  agent: { maxTurns: 3, seed: 1, budgetMs: 10_000, maxToolRetries: 4, faults: [{ type: 'latency', latency: 50 }, { type: 'http_429', toxicity: 0.5 }] },
};

// A healthy loop: one booking, retried twice after a 429 and a reset, applied once.
function record(overrides: Partial<AgentRecord> = {}): AgentRecord {
  return {
    turns: 2,
    completed: true,
    elapsedMs: 1200,
    toolCalls: [{ turn: 0, name: 'book_table', arguments: '{"city":"Lima","party_size":4}', idempotencyKey: 'book/turn-0/call-0', attempts: 3, outcome: 'ok', elapsedMs: 900 }],
    sideEffects: [{ idempotencyKey: 'book/turn-0/call-0', applied: 1 }],
    faults: [
      { request: 1, fault: 'latency', detail: '50 ms' },
      { request: 1, fault: 'http_429', detail: 'Retry-After: 1' },
      { request: 2, fault: 'latency', detail: '50 ms' },
    ],
    finalText: 'Booked.',
    ...overrides,
  };
}

const judge = (agent: AgentRecord | undefined, extra: Partial<Sample> = {}, spec: CheckSpec = { kind: 'agent-loop' }, c: Case = testCase) =>
  agentLoop.compare({ sample: sample({ retries: 2, ...(agent ? { agent } : {}), ...extra }), testCase: c, spec, tolerance: TOL, sameBackendAsReference: false });

describe('agent-loop check', () => {
  it('is registered and needs no reference', () => {
    expect(COMPARATORS.get('agent-loop')).toBe(agentLoop);
    expect(agentLoop.needsReference).toBe(false);
  });

  it('passes a completed loop within budget and bounds, with faults and single side effects', () => {
    expect(judge(record())).toMatchObject({ check: 'agent-loop', status: 'pass', measured: 2, threshold: 4 });
  });

  it('fails a duplicated side effect', () => {
    const v = judge(record({ sideEffects: [{ idempotencyKey: 'book/turn-0/call-0', applied: 2 }] }));
    expect(v).toMatchObject({ status: 'fail', measured: 2, threshold: 1 });
    expect(v.message).toMatch(/duplicated side effect: book\/turn-0\/call-0 applied 2 times/);
  });

  it('fails a logical call applied under two keys (a fresh key per retry)', () => {
    const v = judge(record({ sideEffects: [{ idempotencyKey: 'k-a', applied: 1 }, { idempotencyKey: 'k-b', applied: 1 }, { idempotencyKey: 'k-a + k-b', applied: 2 }] }));
    expect(v.status).toBe('fail');
    expect(v.message).toMatch(/k-a \+ k-b applied 2 times/);
  });

  it('fails a call that exhausted its retries', () => {
    const calls = [{ ...record().toolCalls[0]!, attempts: 5, outcome: 'exhausted' }];
    const v = judge(record({ toolCalls: calls, sideEffects: [] }), { retries: 4 });
    expect(v).toMatchObject({ status: 'fail', measured: '1 exhausted', threshold: '0 exhausted' });
    expect(v.message).toMatch(/exhausted its retries after 5 attempts/);
  });

  it('fails a loop that ran over budget, finished or not', () => {
    expect(judge(record({ elapsedMs: 12_500 }))).toMatchObject({ status: 'fail', measured: 12_500, threshold: 10_000 });
    const unfinished = judge(record({ completed: false, elapsedMs: 10_000, turns: 1 }));
    expect(unfinished).toMatchObject({ status: 'fail', threshold: 'final answer within 3 turns and 10000 ms' });
    expect(unfinished.message).toMatch(/did not reach a final answer/);
  });

  it('fails more retries than allowed, by default maxToolRetries per call', () => {
    expect(judge(record(), { retries: 5 })).toMatchObject({ status: 'fail', measured: 5, threshold: 4 });
    expect(judge(record(), { retries: 2 }, { kind: 'agent-loop', maxRetries: 1 })).toMatchObject({ status: 'fail', measured: 2, threshold: 1 });
  });

  it('fails an empty schedule when a fault always applies, and a missing schedule', () => {
    const v = judge(record({ faults: [] }));
    expect(v).toMatchObject({ status: 'fail', measured: 0 });
    expect(v.message).toBe('no fault was injected although latency always apply and 1 tool call(s) were made: the loop was not tested under faults');
    // Only chance faults configured: an empty schedule is possible, so it is no failure.
    const chancy: Case = { ...testCase, agent: { ...testCase.agent!, faults: [{ type: 'http_429', toxicity: 0.5 }] } };
    expect(judge(record({ faults: [] }), {}, undefined, chancy).status).toBe('pass');
    expect(judge(undefined)).toMatchObject({ status: 'fail', measured: 'no fault schedule' });
    expect(judge({ ...record(), faults: undefined as unknown as AgentRecord['faults'] }).status).toBe('fail');
  });
  it('names an ignored tool_choice, not a missing fault, when the model called no tool', () => {
    const noCall = record({ turns: 1, toolCalls: [], sideEffects: [], faults: [], finalText: 'plain text' });
    const named: Case = { ...testCase, params: { tool_choice: { type: 'function', function: { name: 'book_table' } } } };
    expect(judge(noCall, { retries: 0, finishReason: 'length' }, undefined, named)).toMatchObject({
      status: 'fail',
      measured: 'no tool call',
      threshold: 'a call to book_table',
      message: 'the case asked for tool_choice book_table and the answer had no tool call (finish_reason length), so the server ignored it: the loop never reached its tools and was not tested under faults',
    });
    // No tool_choice in the case: the loop sends "required", and that is what was ignored; with only chance faults too.
    const chancy: Case = { ...testCase, agent: { ...testCase.agent!, faults: [{ type: 'http_429', toxicity: 0.5 }] } };
    expect(judge(noCall, { retries: 0, finishReason: 'stop' }, undefined, chancy)).toMatchObject({
      status: 'fail',
      threshold: 'a tool call',
      message: expect.stringMatching(/^the case asked for tool_choice "required" and the answer had no tool call \(finish_reason stop\), so the server ignored it/),
    });
    // tool_choice auto lets the model answer directly: only a fault that always applies makes that a failure.
    const auto: Case = { ...testCase, params: { tool_choice: 'auto' } };
    expect(judge(noCall, { retries: 0, finishReason: 'stop' }, undefined, auto).message).toBe(
      'the model called no tool under tool_choice "auto" (finish_reason stop): the loop was not tested under faults',
    );
    expect(judge(noCall, { retries: 0 }, undefined, { ...chancy, params: { tool_choice: 'auto' } }).status).toBe('pass');
  });
});
