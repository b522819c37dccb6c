import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { BackendProbe } from '../../src/cli/commands/backends.ts';
import { ensureFixtureModel } from '../../src/engine/fixture-model/ensure-fixture-model.ts';
import { freePort } from '../../src/launch/free-port.ts';
import { startReplayServer, type ReplayServer } from '../helpers/replay-server.ts';
import { loadRecordedExchange } from '../runners/support/recorded-exchange.ts';
import { conform, makeProject, REPO } from '../helpers/conform-cli.ts';
import { startPeer } from '../helpers/llama-server.ts';

let server: ReplayServer | undefined;
afterEach(async () => server?.close());

const baseUrlProject = (name: string, baseUrl: string) =>
  makeProject([], { 'conform.config.yaml': `backends: [{ name: ${name}, class: cpu, model: tiny, preset: llama-cpp, baseUrl: "${baseUrl}" }]\n` });

describe('conform backends', () => {
  it("probes a recorded llama.cpp b4748 server and shows its real quirks with the server's own messages", async () => {
    // In probe order: identity (/v1/models, then /props, which was not recorded: a 404), logprobs, tools required,
    // named tool_choice, streamed tools, json_schema.
    const names = ['models', 'chat-logprobs', 'chat-tools-required', 'chat-tools-named', 'chat-tools-required-stream', 'chat-json-schema'];
    const steps = names.map((name) => ({ bytes: loadRecordedExchange('cpu', name).wire }));
    steps.splice(1, 0, { bytes: new Uint8Array(Buffer.from('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n')) });
    server = await startReplayServer(steps);
    const result = await conform(['backends', '--json'], { cwd: baseUrlProject('llamacpp', server.baseUrl) });
    expect(result.exitCode, result.stderr).toBe(0);
    const [probe] = JSON.parse(result.stdout) as BackendProbe[];
    expect(probe).toMatchObject({ name: 'llamacpp', reachable: true, identity: { model: 'models/tiny.gguf', engine: 'llama.cpp' } });
    expect(probe!.features).toEqual({
      logprobs: 'yes',
      tools: 'yes',
      namedToolChoice: 'no: tool_choice get_time ignored: answered without a tool call (finish_reason length)',
      streamedTools: 'no: HTTP 500 Cannot use tools with stream',
      jsonSchema: 'no: response_format json_schema: the answer is not JSON', // the recorded answer ran out of tokens mid-string
    });
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/models', '/props', ...Array(5).fill('/v1/chat/completions')]);
  });

  it('says "unreachable: connection refused" for a stopped server, probes nothing more, and exits 3', async () => {
    const port = await freePort();
    const project = baseUrlProject('stopped', `http://127.0.0.1:${port}/v1`);
    const table = await conform(['backends'], { cwd: project });
    expect(table.exitCode, table.stderr).toBe(3);
    const lines = table.stdout.trim().split('\n');
    expect(lines[1]).toMatch(/^stopped\s+no\s+-\s+-\s+-\s+-\s+-\s+-\s+-\s+-$/);
    expect(lines.slice(2)).toEqual(['', `stopped: unreachable: connection refused at http://127.0.0.1:${port}/v1`]);
    const json = await conform(['backends', '--json'], { cwd: project });
    expect(json.exitCode).toBe(3);
    expect(JSON.parse(json.stdout)).toEqual([{ name: 'stopped', preset: 'llama-cpp', reachable: false, reason: `unreachable: connection refused at http://127.0.0.1:${port}/v1`, identity: {} }]);
  });

  it('documents its exit codes in --help', async () => {
    const help = await conform(['backends', '--help'], { cwd: REPO });
    expect(help.exitCode).toBe(0);
    const flat = help.stdout.replace(/\s+/g, ' ');
    expect(flat).toMatch(/Exit codes: 0 every backend answered \(features may be missing; .*\); 3 a backend is unreachable \(for example "unreachable: connection refused at http:\/\/127\.0\.0\.1:8080\/v1"\) or its launch failed; 2 usage or config error\.$/);
  });

  it('probes the real llama-server peer: what it refuses, with its own words, and what it ignores', async () => {
    const { path } = await ensureFixtureModel(join(REPO, '.cache', 'conform'));
    const peer = await startPeer({ gpu: 'cpu', modelPath: path, logDir: mkdtempSync(join(tmpdir(), 'peer-backends-')) });
    try {
      const table = await conform(['backends'], { cwd: baseUrlProject('ls-cpu', peer.baseUrl) });
      expect(table.exitCode, table.stderr).toBe(0);
      const lines = table.stdout.trim().split('\n');
      expect(lines[1]).toMatch(/^ls-cpu\s+yes\s+\S*conform-tiny\S*\s+.*\s+yes\s+no\s+no\s+no\s+no$/);
      expect(lines.slice(2)).toEqual([
        '',
        'ls-cpu tools: no: tool_choice "required" ignored: answered without a tool call (finish_reason length)',
        'ls-cpu named tool_choice: no: tool_choice get_time ignored: answered without a tool call (finish_reason length)',
        'ls-cpu streamed tools: no: HTTP 400 logprobs is not supported with tools + stream',
        'ls-cpu json_schema: no: HTTP 400 Failed to initialize samplers: std::exception',
      ]);
    } finally {
      await peer.stop();
    }
  }, 240_000);

  it('prints a table with the built-in backends and the Vulkan device name', async () => {
    const project = makeProject(['suites', 'golden']);
    const result = await conform(['backends'], { cwd: project });
    expect(result.exitCode, result.stderr).toBe(0);
    const [header, cpu, cpuQ8, vulkan, ...rest] = result.stdout.trim().split('\n');
    expect(header).toMatch(/^backend\s+reachable\s+model\s+engine\s+device\s+logprobs\s+tools\s+named tool_choice\s+streamed tools\s+json_schema$/);
    expect(cpu).toMatch(/^cpu\s+yes\s+conform-tiny\s+llama\.cpp .*\s+yes\s+yes\s+yes\s+yes\s+yes$/);
    expect(cpuQ8).toMatch(/^cpu-q8\s+yes\s+conform-tiny\s+llama\.cpp .*\s+yes\s+yes\s+yes\s+yes\s+yes$/);
    expect(vulkan).toMatch(/^vulkan\s+yes\s+conform-tiny\s+llama\.cpp .*(llvmpipe|GPU|NVIDIA|AMD|Intel).*\s+yes\s+yes\s+yes\s+yes\s+yes$/);
    expect(rest).toEqual([]); // every feature a plain yes: no reasons under the table
  }, 120_000);
});
