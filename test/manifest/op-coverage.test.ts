import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mergeOpCoverage, parseTestBackendOpsSql, summarizeOpCoverage } from '../../src/manifest/op-coverage.ts';
import { createTestBackendOpsSource } from '../../src/manifest/run-test-backend-ops.ts';
import type { OpCoverage, OpCoverageMode } from '../../src/manifest/types.ts';
import { REPO } from '../helpers/conform-cli.ts';
import { peerDir, prebuiltVulkanBackend } from '../helpers/llama-server.ts';

// Real output of test-backend-ops 80fb11a (scripts/build-peer.sh) with node-llama-cpp's Vulkan backend on llvmpipe.
const fixture = (name: string) => readFileSync(join(REPO, 'test', 'fixtures', 'test-backend-ops', name), 'utf8');

describe('test-backend-ops SQL output', () => {
  it('reads support mode: 115 of 119 GET_ROWS cases supported on Vulkan0, the 4 others listed', () => {
    const { rows, unparsed } = parseTestBackendOpsSql(fixture('vulkan-support-get-rows.sql'));
    expect(unparsed).toBe(0);
    expect(rows).toHaveLength(119);
    expect(rows[0]).toMatchObject({ backendName: 'Vulkan0', opName: 'GET_ROWS', mode: 'support', supported: true, buildCommit: '80fb11a' });
    const summary = summarizeOpCoverage(rows, 'support', 'Vulkan0', 'test-backend-ops support -b Vulkan0 -o GET_ROWS');
    expect(summary).toMatchObject({ cases: 119, ok: 115, failed: 0, unsupported: 4, ops: 1, opsFullyCovered: 0, partial: { GET_ROWS: { ok: 115, notOk: 4 } } });
    // Another device's rows are not this one's.
    expect(summarizeOpCoverage(rows, 'support', 'CPU', '').cases).toBe(0);
  });

  it('reads test mode, where passed is what counts, and an unsupported case names the backend that lacks it', () => {
    const { rows } = parseTestBackendOpsSql(fixture('vulkan-test-rms-norm.sql'));
    expect(summarizeOpCoverage(rows, 'test', 'Vulkan0', 'x')).toMatchObject({ cases: 26, ok: 26, failed: 0, ops: 1, opsFullyCovered: 1, partial: {} });
    const line = (backend: string, supported: number, passed: number, message: string) =>
      `INSERT INTO test_backend_ops (test_time, build_commit, backend_name, op_name, op_params, test_mode, supported, passed, error_message) VALUES ('t', 'c', '${backend}', 'ADD', 'type=f32', 'test', '${supported}', '${passed}', '${message}');`;
    const mixed = parseTestBackendOpsSql([line('Vulkan0', 1, 0, 'compare failed'), line('Vulkan0, CPU', 0, 0, 'not supported'), line('Vulkan0', 1, 1, ''), "INSERT INTO test_backend_ops (a, b) VALUES ('it''s', 'x');"].join('\n'));
    expect(mixed.unparsed).toBe(1);
    expect(summarizeOpCoverage(mixed.rows, 'test', 'Vulkan0', 'x')).toMatchObject({ cases: 3, ok: 1, failed: 1, unsupported: 1, partial: { ADD: { ok: 1, notOk: 2 } } });
  });

  it('adds up per-op runs into one summary, keeping what was cut short', () => {
    const part = (op: string, ok: number, notOk: number, incomplete: Record<string, string> = {}): OpCoverageMode => ({
      mode: 'test', ggmlBackend: 'Vulkan0', cases: ok + notOk, ok, failed: notOk, unsupported: 0, ops: 1, opsFullyCovered: notOk ? 0 : 1,
      partial: notOk ? { [op]: { ok, notOk } } : {}, incomplete, command: `-o ${op}`, buildCommit: 'c',
    });
    expect(mergeOpCoverage([part('ADD', 5, 0), part('MUL_MAT', 7, 2, { MUL_MAT: 'died of SIGABRT after 9 cases' })])).toMatchObject({
      cases: 14, ok: 12, failed: 2, ops: 2, opsFullyCovered: 1, partial: { MUL_MAT: { ok: 7, notOk: 2 } }, incomplete: { MUL_MAT: 'died of SIGABRT after 9 cases' }, command: '-o ADD ; -o MUL_MAT',
    });
  });
});

describe('test-backend-ops, run for real (the peer build)', () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'conform-ops-'));
  afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));
  const binary = join(peerDir(), 'bin', 'test-backend-ops');
  const runs: string[] = [];
  const source = () =>
    createTestBackendOpsSource({ binary, vulkanLibrary: prebuiltVulkanBackend(), env: process.env, cacheDir, tests: [{ op: 'RMS_NORM', params: 'ne=\\[64,5,4,3\\],v=0' }], onRun: (l) => runs.push(l) });

  it('gives cpu its support mode, and no test mode (the CPU is the reference); a second call is cached', async () => {
    const cpu = (await source().coverage('cpu')) as OpCoverage;
    expect('absent' in cpu).toBe(false);
    const support = cpu.support as OpCoverageMode;
    expect(support.ggmlBackend).toBe('CPU');
    expect(support.cases).toBeGreaterThan(10_000);
    expect(support.ok).toBeLessThan(support.cases);
    expect(support.buildCommit).toBe('80fb11a');
    expect(cpu.test).toEqual({ absent: "test mode compares each backend with ggml's CPU backend, which is the reference itself" });
    const before = runs.length;
    expect(await source().coverage('cpu')).toEqual(cpu);
    expect(runs.length).toBe(before);
  });

  it('tests vulkan ops against the CPU under their NMSE limits', async () => {
    const vulkan = (await source().coverage('vulkan')) as OpCoverage;
    expect((vulkan.support as OpCoverageMode).ggmlBackend).toBe('Vulkan0');
    expect(vulkan.test).toMatchObject({ mode: 'test', ops: 1, failed: 0, incomplete: {} });
    expect((vulkan.test as OpCoverageMode).ok).toBeGreaterThan(0);
  });

  it('says why coverage is absent when the binary is not built', async () => {
    const missing = createTestBackendOpsSource({ binary: undefined, vulkanLibrary: undefined, env: process.env, cacheDir });
    expect(await missing.coverage('cpu')).toEqual({ absent: expect.stringMatching(/^test-backend-ops is not built here: run npm run peer:build/) });
  });
});
