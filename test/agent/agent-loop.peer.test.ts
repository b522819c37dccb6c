import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runAgentCase } from '../../src/agent/agent-loop.ts';
import { agentLoop } from '../../src/assertions/agent-loop.ts';
import { ensureFixtureModel } from '../../src/engine/fixture-model/ensure-fixture-model.ts';
import { createOpenAiHttpRunner } from '../../src/runners/openai-http-runner.ts';
import { parseSuite } from '../../src/suites/parse-suite.ts';
import { TOL } from '../assertions/samples.ts';
import { REPO } from '../helpers/conform-cli.ts';
import { startPeer, type PeerServer } from '../helpers/llama-server.ts';

// llama-server with the fixture model's template (no tool support) answers a named tool_choice with
// plain text and 200 (PEER-NOTES.md): the check must say so, not blame the fault proxy.
let peer: PeerServer | undefined;
beforeAll(async () => {
  const { path } = await ensureFixtureModel(join(REPO, '.cache', 'conform'));
  peer = await startPeer({ gpu: 'cpu', modelPath: path, logDir: mkdtempSync(join(tmpdir(), 'peer-agent-')) });
});
afterAll(async () => peer?.stop());

it('names the tool_choice llama-server ignored in a tool-use-jitter case', async () => {
  const suite = parseSuite(readFileSync(join(REPO, 'suites', 'tool-use-jitter.yaml'), 'utf8'), 'suites/tool-use-jitter.yaml');
  const testCase = suite.cases.find((c) => c.id === 'weather-under-rate-limits')!;
  const runner = createOpenAiHttpRunner({ backend: 'ls-cpu', baseUrl: peer!.baseUrl, model: 'conform-tiny', maxRetries: 0 });
  const sample = await runAgentCase(runner, testCase);
  expect(sample.kind).toBe('ok');
  expect(sample.agent).toMatchObject({ turns: 1, toolCalls: [], faults: [] });
  expect(sample.deviations).toContain('tool-choice-ignored:get_weather');
  expect(agentLoop.compare({ sample, testCase, spec: { kind: 'agent-loop' }, tolerance: TOL, sameBackendAsReference: false })).toMatchObject({
    status: 'fail',
    threshold: 'a call to get_weather',
    message: 'the case asked for tool_choice get_weather and the answer had no tool call (finish_reason length), so the server ignored it: the loop never reached its tools and was not tested under faults',
  });
});
