// A user's project that points conform at two llama-server peers and at its own two built-in
// backends: two engines by two kernel paths, with golden recorded on the peer.

import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureFixtureModel } from '../../src/engine/fixture-model/ensure-fixture-model.ts';
import { REPO } from '../helpers/conform-cli.ts';
import { startPeer, type PeerServer } from '../helpers/llama-server.ts';

export interface PeerProject {
  dir: string;
  modelPath: string;
  peers: Record<'cpu' | 'vulkan', PeerServer>;
  stop(): Promise<void>;
}

/** The backends a user would write: baseUrl with the llama-cpp preset for the peers, conform serve launched for the rest. */
export function peerConfig(peers: PeerProject['peers'], suites: string[]): string {
  const serve = (gpu: string) => `{ command: conform, args: [serve, --gpu, ${gpu}, --model, "{model}", --port, "{port}", --threads, "1"] }`;
  return [
    'backends:',
    `  - { name: llama-server-cpu, class: cpu, model: conform-tiny, preset: llama-cpp, baseUrl: "${peers.cpu.baseUrl}" }`,
    `  - { name: llama-server-vulkan, class: software-gpu, model: conform-tiny, preset: llama-cpp, baseUrl: "${peers.vulkan.baseUrl}" }`,
    `  - { name: cpu, class: cpu, model: conform-tiny, launch: ${serve('cpu')} }`,
    `  - { name: vulkan, class: software-gpu, model: conform-tiny, launch: ${serve('vulkan')} }`,
    `suites: [${suites.map((s) => JSON.stringify(s)).join(', ')}]`,
    'reference: llama-server-cpu',
    '',
  ].join('\n');
}

/** Starts both peers on the fixture model and writes the project around them. */
export async function startPeerProject(suites = ['suites/*.yaml']): Promise<PeerProject> {
  const { path: modelPath } = await ensureFixtureModel(join(REPO, '.cache', 'conform'));
  const dir = mkdtempSync(join(tmpdir(), 'conform-peer-'));
  cpSync(join(REPO, 'suites'), join(dir, 'suites'), { recursive: true });
  const logDir = join(dir, 'peer-logs');
  const cpu = await startPeer({ gpu: 'cpu', modelPath, logDir });
  let vulkan: PeerServer;
  try {
    vulkan = await startPeer({ gpu: 'vulkan', modelPath, logDir });
  } catch (error) {
    await cpu.stop();
    throw error;
  }
  const peers = { cpu, vulkan };
  writeFileSync(join(dir, 'conform.config.yaml'), peerConfig(peers, suites));
  return { dir, modelPath, peers, stop: async () => void (await Promise.all([cpu.stop(), vulkan.stop()])) };
}
