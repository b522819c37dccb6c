import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { request } from 'undici';
import { ensureFixtureModel } from '../../src/engine/fixture-model/ensure-fixture-model.ts';
import { REPO } from '../helpers/conform-cli.ts';
import { startPeer } from '../helpers/llama-server.ts';

it('starts llama-server on cpu and vulkan with the fixture model', async () => {
  const { path } = await ensureFixtureModel(join(REPO, '.cache', 'conform'));
  const logDir = mkdtempSync(join(tmpdir(), 'peer-'));
  for (const gpu of ['cpu', 'vulkan'] as const) {
    const peer = await startPeer({ gpu, modelPath: path, logDir });
    try {
      const res = await request(`${peer.baseUrl}/models`);
      const body = (await res.body.json()) as { data: Array<{ meta: { n_vocab: number } }> };
      expect(body.data[0]!.meta.n_vocab).toBe(900);
    } finally {
      await peer.stop();
    }
  }
}, 300_000);
