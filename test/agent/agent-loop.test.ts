import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAgentCase } from '../../src/agent/agent-loop.ts';
import { agentLoop } from '../../src/assertions/agent-loop.ts';
import type { Case, FaultSpec, ToolDefinition } from '../../src/core/types.ts';
import { createOpenAiHttpRunner } from '../../src/runners/openai-http-runner.ts';
import { parseSuite } from '../../src/suites/parse-suite.ts';
import { REPO } from '../helpers/conform-cli.ts';
import { TOL } from '../assertions/samples.ts';

const BOOK_TABLE: ToolDefinition = {
  type: 'function',
  function: {
    name: 'book_table',
    parameters: { type: 'object', properties: { city: { type: 'string', enum: ['Lima', 'Oslo'] }, party_size: { type: 'integer', enum: [2, 4] } }, required: ['city', 'party_size'] },
  },
};

// A scripted OpenAI-compatible server: a tool call for book_table first, then a text answer quoting the tool result.
let model: Server;
let baseUrl = '';
const toolChoices: unknown[] = [];

beforeAll(async () => {
  model = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { messages: Array<{ role: string; content: string | null }>; tool_choice?: unknown };
      toolChoices.push(body.tool_choice);
      const result = body.messages.find((m) => m.role === 'tool');
      const message = result
        ? { role: 'assistant', content: `Done: ${result.content}` }
        : { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'book_table', arguments: '{"city":"Lima","party_size":4}' } }] };
      const answer = JSON.stringify({
        id: 'x',
        object: 'chat.completion',
        model: 'scripted',
        choices: [{ index: 0, message, finish_reason: result ? 'stop' : 'tool_calls' }],
        usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(answer);
    });
  });
  await new Promise<void>((resolve) => model.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(model.address() as AddressInfo).port}/v1`;
});
afterAll(() => new Promise<void>((resolve) => model.close(() => resolve())));

function agentCase(seed: number, faults: FaultSpec[], budgetMs = 20_000): Case {
  return {
    id: 'book-under-faults',
    endpoint: 'agent',
    messages: [{ role: 'user', content: 'Book a table for 4 in Lima.' }],
    params: { max_tokens: 64, temperature: 0, tools: [BOOK_TABLE] },
    checks: [{ kind: 'agent-loop' }],
    agent: { maxTurns: 3, seed, budgetMs, faults, maxToolRetries: 4 },
  };
}

const runner = () => createOpenAiHttpRunner({ backend: 'scripted', baseUrl, model: 'scripted', maxRetries: 0 });
const judge = (testCase: Case, sample: Awaited<ReturnType<typeof runAgentCase>>) =>
  agentLoop.compare({ sample, testCase, spec: testCase.checks[0]!, tolerance: TOL, sameBackendAsReference: false });

// Seed 26 draws: request 1 reset after the booking was applied, request 2 rate-limited, request 3 clean.
const FAULTS: FaultSpec[] = [
  { type: 'latency', latency: 20, jitter: 10 },
  { type: 'http_429', toxicity: 0.5, retry_after: 1 },
  { type: 'reset_peer', toxicity: 0.3, timeout: 0 },
];

describe('agent loop', () => {
  it('completes under latency, 429s and resets, retries with one key, and books once', async () => {
    toolChoices.length = 0;
    const testCase = agentCase(26, FAULTS);
    const sample = await runAgentCase(runner(), testCase);
    const agent = sample.agent!;
    expect(sample.kind).toBe('ok');
    expect(agent.completed).toBe(true);
    expect(agent.turns).toBe(2);
    expect(toolChoices).toEqual(['required', 'required']);
    expect(sample.retries).toBeGreaterThan(0);
    expect(agent.toolCalls).toEqual([
      expect.objectContaining({ turn: 0, name: 'book_table', idempotencyKey: 'book-under-faults/turn-0/call-0', attempts: 3, outcome: 'ok' }),
    ]);
    // The reset came after the server had booked; the retry carried the same key, so it was applied once.
    const resetReachedServer = agent.faults.some((f) => f.fault === 'reset_peer' && !agent.faults.some((g) => g.request === f.request && g.fault === 'http_429'));
    expect(resetReachedServer).toBe(true);
    expect(agent.sideEffects).toEqual([{ idempotencyKey: 'book-under-faults/turn-0/call-0', applied: 1 }]);
    expect(agent.finalText).toMatch(/^Done: \{"confirmation":"BK-0001"/);
    expect(sample.text).toBe(agent.finalText);
    expect(sample.finishReason).toBe('stop');
    // Retry-After: 1 is a floor on the wait after each 429.
    // A reset on the same request drops the 429 before the client sees it, so only the others count.
    const rateLimited = agent.faults.filter((f) => f.fault === 'http_429' && !agent.faults.some((g) => g.request === f.request && g.fault === 'reset_peer')).length;
    expect(rateLimited).toBeGreaterThan(0);
    expect(agent.toolCalls[0]!.elapsedMs).toBeGreaterThanOrEqual(1000 * rateLimited);
    expect(judge(testCase, sample)).toMatchObject({ status: 'pass', measured: 2, threshold: 4 });

    const again = await runAgentCase(runner(), testCase);
    expect(again.agent!.faults).toEqual(agent.faults);
    expect(again.agent!.toolCalls.map((c) => c.attempts)).toEqual(agent.toolCalls.map((c) => c.attempts));
    const other = await runAgentCase(runner(), agentCase(27, FAULTS));
    expect(other.agent!.faults).not.toEqual(agent.faults);
  });

  it('bounds stuck and truncated attempts with the per-attempt timeout', async () => {
    const faults: FaultSpec[] = [
      { type: 'timeout', timeout: 0, toxicity: 0.4 },
      { type: 'limit_data', bytes: 20, toxicity: 0.4 },
      { type: 'slicer', average_size: 16, size_variation: 8, delay: 1000 },
    ];
    // Seed 1 draws: request 1 truncated after 20 bytes, request 2 held silent, request 3 only sliced.
    const testCase = agentCase(1, faults);
    const sample = await runAgentCase(runner(), testCase, { attemptTimeoutMs: 150, retryBaseDelayMs: 10 });
    const agent = sample.agent!;
    const faultsOn = (request: number) => agent.faults.filter((f) => f.request === request).map((f) => f.fault);
    expect(faultsOn(1)).toEqual(['limit_data', 'slicer']);
    expect(faultsOn(2)).toContain('timeout');
    expect(faultsOn(3)).toEqual(['slicer']);
    expect(agent.toolCalls[0]).toMatchObject({ attempts: 3, outcome: 'ok' });
    expect(agent.toolCalls[0]!.elapsedMs).toBeGreaterThanOrEqual(150);
    expect(agent.completed).toBe(true);
    expect(agent.sideEffects).toEqual([{ idempotencyKey: 'book-under-faults/turn-0/call-0', applied: 1 }]);
    expect(agent.elapsedMs).toBeLessThan(5000);
    expect(judge(testCase, sample).status).toBe('pass');
  });

  it('records exhausted retries when every request is rate-limited, and the check fails it', async () => {
    const testCase = agentCase(1, [{ type: 'http_503', retry_after: 0 }]);
    testCase.agent!.maxToolRetries = 2;
    const sample = await runAgentCase(runner(), testCase, { retryBaseDelayMs: 5 });
    const agent = sample.agent!;
    expect(agent.toolCalls[0]).toMatchObject({ attempts: 3, outcome: 'exhausted' });
    expect(agent.faults).toHaveLength(3);
    expect(agent.sideEffects).toEqual([]);
    // The model still gets an answer (an error) and finishes; the check is what fails the loop.
    expect(agent.completed).toBe(true);
    expect(judge(testCase, sample)).toMatchObject({ status: 'fail', measured: '1 exhausted' });
  });

  it('stops at the budget and says so', async () => {
    const testCase = agentCase(1, [{ type: 'timeout', timeout: 0 }], 600);
    const t0 = Date.now();
    const sample = await runAgentCase(runner(), testCase, { attemptTimeoutMs: 400, retryBaseDelayMs: 10 });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(sample.kind).toBe('ok');
    expect(sample.agent!.completed).toBe(false);
    expect(sample.agent!.toolCalls[0]!.outcome).toBe('budget');
    expect(judge(testCase, sample).status).toBe('fail');
  });

  it('rejects faults the proxy cannot apply as a suite mistake', async () => {
    await expect(runAgentCase(runner(), agentCase(1, [{ type: 'bandwidth', rate: 0 }]))).rejects.toMatchObject({ code: 'SUITE_INVALID', message: expect.stringMatching(/book-under-faults: fault bandwidth/) });
  });

  it('reports a failed model turn as that turn\'s kind', async () => {
    const dead = createOpenAiHttpRunner({ backend: 'gone', baseUrl: 'http://127.0.0.1:1/v1', model: 'x', maxRetries: 0 });
    const sample = await runAgentCase(dead, agentCase(1, []));
    expect(sample.kind).toBe('crash');
    expect(sample.error?.message).toMatch(/^turn 1: /);
    expect(sample.agent).toMatchObject({ turns: 1, completed: false });
  });
  it("names the ignored tool_choice when the server answers a forced turn with plain text, as llama-server does", async () => {
    // llama-server with a template that knows no tools: 200, plain text, finish_reason length, whatever tool_choice says.
    const ignoring = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content: 'table lunch Oslo' }, finish_reason: 'length' }], usage: { prompt_tokens: 9, completion_tokens: 3 } }));
      });
    });
    await new Promise<void>((resolve) => ignoring.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(ignoring.address() as AddressInfo).port}/v1`;
      const suite = parseSuite(readFileSync(join(REPO, 'suites', 'tool-use-jitter.yaml'), 'utf8'), 'suites/tool-use-jitter.yaml');
      const testCase = suite.cases.find((c) => c.id === 'booking-under-jitter')!;
      const sample = await runAgentCase(createOpenAiHttpRunner({ backend: 'ignoring', baseUrl: url, model: 'x', maxRetries: 0 }), testCase);
      expect(sample.agent).toMatchObject({ turns: 1, completed: true, toolCalls: [], faults: [] });
      expect(sample.deviations).toContain('tool-choice-ignored:book_table');
      const verdict = agentLoop.compare({ sample, testCase, spec: { kind: 'agent-loop' }, tolerance: TOL, sameBackendAsReference: false });
      expect(verdict).toMatchObject({ status: 'fail', measured: 'no tool call', threshold: 'a call to book_table' });
      expect(verdict.message).toBe(
        'the case asked for tool_choice book_table and the answer had no tool call (finish_reason length), so the server ignored it: the loop never reached its tools and was not tested under faults',
      );
    } finally {
      await new Promise<void>((resolve) => ignoring.close(() => resolve()));
    }
  });
});
