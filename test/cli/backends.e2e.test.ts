import { afterEach, describe, expect, it } from 'vitest';
import type { BackendProbe } from '../../src/cli/commands/backends.ts';
import { startReplayServer, type ReplayServer } from '../helpers/replay-server.ts';
import { loadRecordedExchange } from '../runners/support/recorded-exchange.ts';
import { conform, makeProject } from '../helpers/conform-cli.ts';

let server: ReplayServer | undefined;
afterEach(async () => server?.close());

describe('conform backends', () => {
  it('probes a recorded llama.cpp b4748 server and shows its real quirks', async () => {
    // In probe order: identity (/v1/models, then /props, which was not recorded: a 404), logprobs, tools required,
    // named tool_choice, streamed tools, json_schema.
    const names = ['models', 'chat-logprobs', 'chat-tools-required', 'chat-tools-named', 'chat-tools-required-stream', 'chat-json-schema'];
    const steps = names.map((name) => ({ bytes: loadRecordedExchange('cpu', name).wire }));
    steps.splice(1, 0, { bytes: new Uint8Array(Buffer.from('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n')) });
    server = await startReplayServer(steps);
    const project = makeProject([], { 'conform.config.yaml': `backends: [{ name: llamacpp, class: cpu, model: tiny, preset: llama-cpp, baseUrl: "${server.baseUrl}" }]\n` });
    const result = await conform(['backends', '--json'], { cwd: project });
    expect(result.exitCode, result.stderr).toBe(0);
    const [probe] = JSON.parse(result.stdout) as BackendProbe[];
    expect(probe).toMatchObject({ name: 'llamacpp', reachable: true, identity: { model: 'models/tiny.gguf', engine: 'llama.cpp' } });
    expect(probe!.features).toEqual({
      logprobs: 'yes',
      tools: 'yes',
      namedToolChoice: 'no', // the recorded server ignored the named tool
      streamedTools: 'error: http-error 500', // "Cannot use tools with stream"
      jsonSchema: 'no', // a valid answer, but to the recorded schema, not the probe's
    });
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/models', '/props', ...Array(5).fill('/v1/chat/completions')]);
  });

  it('prints a table with the built-in backends and the Vulkan device name', async () => {
    const project = makeProject(['suites', 'golden']);
    const result = await conform(['backends'], { cwd: project });
    expect(result.exitCode, result.stderr).toBe(0);
    const [header, cpu, vulkan] = result.stdout.trim().split('\n');
    expect(header).toMatch(/^backend\s+reachable\s+model\s+engine\s+device\s+logprobs\s+tools\s+named tool_choice\s+streamed tools\s+json_schema$/);
    expect(cpu).toMatch(/^cpu\s+yes\s+conform-tiny\s+llama\.cpp .*\s+yes\s+yes\s+yes\s+yes\s+yes$/);
    expect(vulkan).toMatch(/^vulkan\s+yes\s+conform-tiny\s+llama\.cpp .*(llvmpipe|GPU|NVIDIA|AMD|Intel).*\s+yes\s+yes\s+yes\s+yes\s+yes$/);
  }, 120_000);
});
