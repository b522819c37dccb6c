// The power sources through the real PowerIo: RAPL files in a folder laid out like /sys/class/powercap,
// and tools found on PATH that print the recorded outputs of test/fixtures/power (small executable
// fixtures, as the real tools would be).

import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createNodePowerIo } from '../../src/telemetry/energy/node-power-io.ts';
import { autoCandidates, startPowerSession } from '../../src/telemetry/energy/power-sources.ts';
import { REPO } from '../helpers/conform-cli.ts';

const FIXTURES = join(REPO, 'test', 'fixtures', 'power');
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'conform-power-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A folder holding executables named like the tools; PATH is only that folder (and /bin for sh). */
function toolsOnPath(tools: Record<string, string>): NodeJS.ProcessEnv {
  const bin = tempDir();
  for (const [name, script] of Object.entries(tools)) {
    writeFileSync(join(bin, name), `#!/bin/sh\n${script}\n`);
    chmodSync(join(bin, name), 0o755);
  }
  return { PATH: `${bin}:/usr/bin:/bin`, FIXTURES };
}

function powercap(zones: Record<string, { name: string; energy?: number; range?: number }>): string {
  const root = tempDir();
  for (const [zone, files] of Object.entries(zones)) {
    mkdirSync(join(root, zone));
    writeFileSync(join(root, zone, 'name'), `${files.name}\n`);
    if (files.energy !== undefined) writeFileSync(join(root, zone, 'energy_uj'), `${files.energy}\n`);
    if (files.range !== undefined) writeFileSync(join(root, zone, 'max_energy_range_uj'), `${files.range}\n`);
  }
  return root;
}

describe('RAPL', () => {
  it('reads package zones only, and counts a wrap at max_energy_range_uj exactly once', async () => {
    const range = 262_143_328_850;
    const root = powercap({
      'intel-rapl:0': { name: 'package-0', energy: range - 3_000_000, range },
      'intel-rapl:0:0': { name: 'core', energy: 1, range },
      'intel-rapl:1': { name: 'psys', energy: 1, range },
    });
    const session = await startPowerSession({ source: 'rapl', backendClass: 'cpu', io: createNodePowerIo({ env: {}, powercapRoot: root }) });
    // 2 J more, then the counter wraps and reaches 4 J past zero: 3 + 4 = 7 J in all, however often it was read.
    await sleep(300);
    writeFileSync(join(root, 'intel-rapl:0', 'energy_uj'), `${range - 1_000_000}\n`);
    await sleep(300);
    writeFileSync(join(root, 'intel-rapl:0', 'energy_uj'), '4000000\n');
    await sleep(300);
    const measured = await session.stop();
    expect(measured).toMatchObject({ source: 'rapl', method: 'counter', device: 'RAPL package-0' });
    expect(measured.reason).toBeUndefined();
    expect(measured.series[measured.series.length - 1]![1]).toBeCloseTo(7, 6);
  });

  it('a counter that goes back with no known range is counted from zero, and the figure says it is a lower bound', async () => {
    const root = powercap({ 'intel-rapl:0': { name: 'package-0', energy: 9_000_000 } });
    const session = await startPowerSession({ source: 'rapl', backendClass: 'cpu', io: createNodePowerIo({ env: {}, powercapRoot: root }) });
    await sleep(300);
    writeFileSync(join(root, 'intel-rapl:0', 'energy_uj'), '2000000\n');
    await sleep(300);
    const measured = await session.stop();
    expect(measured.series[measured.series.length - 1]![1]).toBeCloseTo(2, 6);
    expect(measured.reason).toMatch(/went back 1 time with no known range: the figure is a lower bound/);
  });

  it('without /sys/class/powercap the figure is null and says so', async () => {
    const io = createNodePowerIo({ env: {}, powercapRoot: join(tempDir(), 'no-such-powercap') });
    const measured = await (await startPowerSession({ source: 'auto', backendClass: 'cpu', io })).stop();
    expect(measured.source).toBe('none');
    expect(measured.series).toEqual([]);
    expect(measured.reason).toMatch(/^auto \(class cpu\) tried rapl: no .*no-such-powercap on this machine: RAPL is not exposed here/);
  });

  it('on this machine, auto for a cpu backend measures RAPL where it exists and says why not where it does not', async () => {
    const measured = await (await startPowerSession({ source: 'auto', backendClass: 'cpu', io: createNodePowerIo({ env: process.env }) })).stop();
    if (existsSync('/sys/class/powercap')) expect(['rapl', 'none']).toContain(measured.source);
    else expect(measured).toMatchObject({ source: 'none', reason: expect.stringContaining('no /sys/class/powercap on this machine') });
  });
});

describe('tools on PATH', () => {
  it('nvidia-smi: the NVML energy counter when the driver offers it', async () => {
    // Every call reports 100 J (100,000 mJ) more than the last.
    const state = join(tempDir(), 'mj');
    writeFileSync(state, '5000000');
    const env = toolsOnPath({ 'nvidia-smi': `n=$(cat ${state}); echo $((n + 100000)) > ${state}; echo "0, $n"` });
    const session = await startPowerSession({ source: 'nvidia-smi', backendClass: 'gpu', io: createNodePowerIo({ env }) });
    await sleep(300);
    const measured = await session.stop();
    expect(measured).toMatchObject({ source: 'nvidia-smi', method: 'counter', device: '1 GPU (NVML total energy through nvidia-smi)' });
    expect(measured.samples).toBeGreaterThanOrEqual(2);
    expect(measured.series[measured.series.length - 1]![1]).toBeCloseTo(100 * (measured.samples - 1), 6);
  });

  it('nvidia-smi: power.draw streamed and integrated when the counter is not a valid field', async () => {
    const env = toolsOnPath({
      'nvidia-smi': 'case "$*" in *total_energy*) cat "$FIXTURES/nvidia-smi-energy-invalid.txt"; exit 2;; esac\nwhile true; do echo "0, 200.00"; sleep 0.05; done',
    });
    const session = await startPowerSession({ source: 'auto', backendClass: 'gpu', io: createNodePowerIo({ env }) });
    await sleep(400);
    const measured = await session.stop();
    expect(measured).toMatchObject({ source: 'nvidia-smi', method: 'integrated-power' });
    const [t0] = measured.series[0]!;
    const [t1, joules] = measured.series[measured.series.length - 1]!;
    // A constant 200 W: the integral is 200 W × the time between the first and last reading.
    expect(joules).toBeCloseTo((200 * (t1 - t0)) / 1000, 6);
  });

  it('rocm-smi, amd-smi, npu-smi and hl-smi: watts polled from their recorded outputs', async () => {
    const env = toolsOnPath({
      'rocm-smi': 'cat "$FIXTURES/rocm-smi-showpower.json"',
      'amd-smi': 'cat "$FIXTURES/amd-smi-metric-power.json"',
      'npu-smi': 'case "$*" in *-l*) cat "$FIXTURES/npu-smi-info-l.txt";; *"-i 0"*) cat "$FIXTURES/npu-smi-info-power.txt";; *) cat "$FIXTURES/npu-smi-info-power-chips.txt";; esac',
      'hl-smi': 'cat "$FIXTURES/hl-smi-power-noheader.csv"',
    });
    const expected = { 'rocm-smi': 76.5, 'amd-smi': 232.5, 'npu-smi': 16.9 + 139, 'hl-smi': 197 } as const;
    for (const [source, watts] of Object.entries(expected) as Array<[keyof typeof expected, number]>) {
      const session = await startPowerSession({ source, backendClass: 'rocm', io: createNodePowerIo({ env }) });
      await sleep(150);
      const measured = await session.stop();
      expect(measured, source).toMatchObject({ source, method: 'integrated-power' });
      const [t0] = measured.series[0]!;
      const [t1, joules] = measured.series[measured.series.length - 1]!;
      expect(joules, source).toBeCloseTo((watts * (t1 - t0)) / 1000, 6);
    }
  });

  it('a tool that is missing or fails gives null with its reason; auto tries the class candidates in order', async () => {
    const env = toolsOnPath({ 'amd-smi': 'echo "AMDSMI_STATUS_DRM_ERROR: no GPU" >&2; exit 1' });
    const measured = await (await startPowerSession({ source: 'auto', backendClass: 'rocm', io: createNodePowerIo({ env }) })).stop();
    expect(autoCandidates('rocm')).toEqual(['amd-smi', 'rocm-smi']);
    // Q8_0 weights on the CPU kernels are a CPU backend: its package counter, not an accelerator's tool.
    expect(autoCandidates('cpu-q8')).toEqual(['rapl']);
    expect(measured.source).toBe('none');
    expect(measured.reason).toBe('auto (class rocm) tried amd-smi, rocm-smi: amd-smi exited with 1: AMDSMI_STATUS_DRM_ERROR: no GPU; rocm-smi is not installed here (not on PATH)');
  });

  it('a remote backend is not measured from here, and none means off', async () => {
    const io = createNodePowerIo({ env: {} });
    expect((await (await startPowerSession({ source: 'auto', backendClass: 'gpu', baseUrl: 'http://gpu-box:8000/v1', io })).stop()).reason).toMatch(/runs on gpu-box, not on this machine/);
    expect((await (await startPowerSession({ source: 'none', backendClass: 'gpu', io })).stop()).reason).toMatch(/power.source: none/);
  });
});
