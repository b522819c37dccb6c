// Starts llama.cpp's own llama-server, built from the source node-llama-cpp ships (scripts/build-peer.sh),
// on loopback: the peer conform did not write. Tests use it the way a user would, as a baseUrl backend.

import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { request } from 'undici';
import { freePort } from '../../src/launch/free-port.ts';
import { REPO } from './conform-cli.ts';

export type PeerGpu = 'cpu' | 'vulkan';

export interface PeerServer {
  gpu: PeerGpu;
  /** OpenAI-compatible base URL, including /v1. */
  baseUrl: string;
  logFile: string;
  stop(): Promise<void>;
}

export interface StartPeerOptions {
  gpu: PeerGpu;
  modelPath: string;
  logDir: string;
  /** Context the server holds; over-long prompts are then truncated by the server itself. @default 4096 */
  contextSize?: number;
  extraArgs?: string[];
  /** How long to wait until the server answers a real request (a cold Vulkan start compiles pipelines). @default 180000 */
  readyTimeoutMs?: number;
}

/** The folder holding the built peer (bin/llama-server), or a one-line error that says how to build it. */
export function peerDir(): string {
  try {
    return execFileSync(join(REPO, 'scripts', 'build-peer.sh'), ['--print'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n').pop()!;
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    throw new Error(stderr || 'llama-server is not built; run: npm run peer:build');
  }
}

/** node-llama-cpp's prebuilt Vulkan backend, the same llama.cpp commit as the peer; Debian 12 cannot compile its own. */
export function prebuiltVulkanBackend(): string {
  const require = createRequire(join(REPO, 'package.json'));
  // The package exports only its entry (dist/index.js); its binaries sit beside dist/.
  const entry = require.resolve('@node-llama-cpp/linux-x64-vulkan');
  return join(dirname(dirname(entry)), 'bins', 'linux-x64-vulkan', 'libggml-vulkan.so');
}

async function answers(baseUrl: string): Promise<boolean> {
  try {
    const res = await request(`${baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'Hello' }], max_tokens: 1, temperature: 0 }),
      headersTimeout: 120_000,
      bodyTimeout: 120_000,
    });
    await res.body.dump();
    return res.statusCode === 200;
  } catch {
    return false;
  }
}

/** Starts one llama-server and resolves once it has answered a real one-token request. */
export async function startPeer(options: StartPeerOptions): Promise<PeerServer> {
  const bin = join(peerDir(), 'bin', 'llama-server');
  const port = await freePort();
  mkdirSync(options.logDir, { recursive: true });
  const logFile = join(options.logDir, `llama-server-${options.gpu}-${port}.log`);
  // One thread and one slot: two cores are shared with the harness, and one slot keeps greedy output free of batch variance.
  const args = ['-m', options.modelPath, '--host', '127.0.0.1', '--port', String(port), '-c', String(options.contextSize ?? 4096), '-t', '1', '-tb', '1', '-np', '1', '--jinja', '--no-webui', '--metrics'];
  const env: Record<string, string> = {};
  if (options.gpu === 'vulkan') {
    args.push('-ngl', '99');
    env.GGML_BACKEND_PATH = prebuiltVulkanBackend();
    env.GGML_VK_VISIBLE_DEVICES = '0';
  } else {
    args.push('-ngl', '0');
  }
  args.push(...(options.extraArgs ?? []));
  const child: ResultPromise = execa(bin, args, { env, stdin: 'ignore', stdout: { file: logFile, append: true }, stderr: { file: logFile, append: true }, reject: false, cleanup: true, forceKillAfterDelay: 5_000 });
  let exited = false;
  void child.then(() => (exited = true));
  const baseUrl = `http://127.0.0.1:${port}/v1`;
  const stop = async () => {
    if (!exited) child.kill('SIGTERM');
    await child;
  };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 180_000);
  for (;;) {
    if (exited) throw new Error(`llama-server (${options.gpu}) exited before it answered; see ${logFile}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`llama-server (${options.gpu}) did not answer within ${options.readyTimeoutMs ?? 180_000} ms; see ${logFile}`);
    }
    try {
      const health = await request(`http://127.0.0.1:${port}/health`, { headersTimeout: 2_000, bodyTimeout: 2_000 });
      await health.body.dump();
      if (health.statusCode === 200 && (await answers(baseUrl))) break;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { gpu: options.gpu, baseUrl, logFile, stop };
}
