import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GoldenFile, Suite } from '../../src/core/types.ts';
import { ensureFixtureModel } from '../../src/engine/fixture-model/ensure-fixture-model.ts';
import { loadSuites } from '../../src/suites/load-suites.ts';
import { conform, makeProject, REPO } from '../helpers/conform-cli.ts';
import { startPeer, type PeerServer } from '../helpers/llama-server.ts';

// llama.cpp's own llama-server (PEER-NOTES.md), as a user configures it: a baseUrl backend with the
// llama-cpp preset. It refuses some of the default suites' requests; record must still write a golden.
let peer: PeerServer | undefined;
beforeAll(async () => {
  const { path } = await ensureFixtureModel(join(REPO, '.cache', 'conform'));
  peer = await startPeer({ gpu: 'cpu', modelPath: path, logDir: mkdtempSync(join(tmpdir(), 'peer-record-')) });
});
afterAll(async () => peer?.stop());

describe('conform record against llama-server', () => {
  it('writes every default suite, with what the server cannot serve in provenance.unsupported, and exits 0', async () => {
    const dir = makeProject(['suites'], { 'conform.config.yaml': `backends: [{ name: ls-cpu, class: cpu, model: conform-tiny, preset: llama-cpp, baseUrl: "${peer!.baseUrl}" }]\nreference: ls-cpu\n` });
    const result = await conform(['record'], { cwd: dir, timeout: 600_000 });
    expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(0);

    const suites: Suite[] = loadSuites(['suites/*.yaml'], dir);
    expect(readdirSync(join(dir, 'golden')).sort()).toEqual(suites.map((s) => `${s.name}.json`).sort());
    const goldens = new Map(suites.map((s) => [s.name, JSON.parse(readFileSync(join(dir, 'golden', `${s.name}.json`), 'utf8')) as GoldenFile]));
    for (const suite of suites) {
      const golden = goldens.get(suite.name)!;
      const unsupported = golden.provenance.unsupported ?? {};
      // Every case is accounted for, once: a sample or an unsupported reason, never both, never neither.
      expect([...Object.keys(golden.samples), ...Object.keys(unsupported)].sort(), suite.name).toEqual(suite.cases.map((c) => c.id).sort());
      expect(golden.provenance.backend).toBe('ls-cpu');
      for (const [caseId, reason] of Object.entries(unsupported)) expect(result.stdout).toContain(`  unsupported ${suite.name}/${caseId}: ${reason}`);
    }
    const unsupported = (suite: string) => goldens.get(suite)!.provenance.unsupported ?? {};
    expect(unsupported('cold-warm')).toEqual({
      'cold-start': 'conform does not launch ls-cpu, so it cannot measure its start',
      'warm-start': 'conform does not launch ls-cpu, so it cannot measure its start',
    });
    expect(unsupported('function-calling')).toEqual({
      'named-time-streamed': 'HTTP 400: logprobs is not supported with tools + stream',
      'parallel-streamed': 'HTTP 400: logprobs is not supported with tools + stream',
    });
    for (const id of ['ctx-8k', 'ctx-16k', 'ctx-32k'])
      expect(unsupported('long-context')[id], id).toMatch(/^HTTP 400: request \(\d+ tokens\) exceeds the available context size \(4096 tokens\), try increasing it$/);
    expect(unsupported('smoke')['json-schema-answer']).toBe('HTTP 400: Failed to initialize samplers: std::exception');
    // Served: the streaming suite in full, the plain chat and the tool loops (answered as plain text).
    expect(Object.keys(goldens.get('streaming')!.samples)).toHaveLength(suites.find((s) => s.name === 'streaming')!.cases.length);
    expect(Object.keys(goldens.get('tool-use-jitter')!.samples).sort()).toEqual(['booking-under-jitter', 'resets-and-truncation', 'weather-under-rate-limits']);
    expect(goldens.get('smoke')!.samples['chat-hello']!.tokens.length).toBeGreaterThan(0);
  }, 600_000);
});
