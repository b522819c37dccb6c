// Each power tool's parser on outputs written from its documented format (test/fixtures/power/README.md).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAmdSmiPower } from '../../src/telemetry/energy/amd-smi.ts';
import { parseHlSmiPower } from '../../src/telemetry/energy/hl-smi.ts';
import { parseNpuSmiList, parseNpuSmiPower } from '../../src/telemetry/energy/npu-smi.ts';
import { createNvidiaPowerGrouper, parseNvidiaEnergy } from '../../src/telemetry/energy/nvidia-smi.ts';
import { cellNumber } from '../../src/telemetry/energy/power-source.ts';
import { parseMicrojoules } from '../../src/telemetry/energy/rapl.ts';
import { parseRocmSmiPower } from '../../src/telemetry/energy/rocm-smi.ts';
import { REPO } from '../helpers/conform-cli.ts';

const fixture = (name: string) => readFileSync(join(REPO, 'test', 'fixtures', 'power', name), 'utf8');

describe('tool cells', () => {
  it('reads numbers with or without units and refuses N/A', () => {
    expect(cellNumber('71.58')).toBe(71.58);
    expect(cellNumber(' 95 W ')).toBe(95);
    expect(cellNumber(133)).toBe(133);
    for (const na of ['[N/A]', 'N/A', '[Not Supported]', '', undefined, null]) expect(cellNumber(na)).toBeUndefined();
  });
});

describe('nvidia-smi', () => {
  it('total_energy_consumption is millijoules per GPU', () => {
    expect(parseNvidiaEnergy(fixture('nvidia-smi-energy.csv'))).toEqual([123456.789, 98765.432]);
    expect(parseNvidiaEnergy(fixture('nvidia-smi-energy-na.csv'))).toEqual([undefined]);
    expect(parseNvidiaEnergy(fixture('nvidia-smi-energy-invalid.txt'))).toEqual([]);
  });

  it('a streamed power.draw period is one reading, summed over GPUs; an N/A GPU is left out, not read as 0', () => {
    const readings: Array<[number | undefined, number]> = [];
    const grouper = createNvidiaPowerGrouper((watts, gpus) => readings.push([watts, gpus]));
    for (const line of fixture('nvidia-smi-power-stream.csv').split('\n')) grouper.push(line);
    grouper.flush();
    expect(readings.map(([w, g]) => [w === undefined ? w : Number(w.toFixed(2)), g])).toEqual([
      [136.78, 2],
      [72.1, 2],
      [136, 2],
    ]);
  });
});

describe('rocm-smi and amd-smi', () => {
  it('rocm-smi --showpower --json, up to ROCm 5 and on MI300', () => {
    expect(parseRocmSmiPower(fixture('rocm-smi-showpower.json'))).toEqual({ watts: 76.5, devices: 2 });
    expect(parseRocmSmiPower(fixture('rocm-smi-showpower-mi300.json'))).toEqual({ watts: 273, devices: 3 });
    expect(() => parseRocmSmiPower('ERROR: GPU[0]: Driver not initialized')).toThrow(/did not print JSON/);
  });

  it('amd-smi metric --power --json, as a list and as gpu_data', () => {
    expect(parseAmdSmiPower(fixture('amd-smi-metric-power.json'))).toEqual({ watts: 232.5, devices: 2 });
    expect(parseAmdSmiPower(fixture('amd-smi-metric-power-gpu-data.json'))).toEqual({ watts: 550, devices: 1 });
    expect(parseAmdSmiPower('WARNING: not in render group\n[{"gpu": 0, "power": {"socket_power": "N/A"}}]')).toEqual({ devices: 1 });
  });
});

describe('npu-smi and hl-smi', () => {
  it('npu-smi: the device list, and the whole card where reported, else the chips', () => {
    expect(parseNpuSmiList(fixture('npu-smi-info-l.txt'))).toEqual([0, 1]);
    expect(parseNpuSmiPower(fixture('npu-smi-info-power.txt'))).toBe(16.9);
    expect(parseNpuSmiPower(fixture('npu-smi-info-power-chips.txt'))).toBe(139);
    expect(parseNpuSmiPower('Error: device 3 not found')).toBeUndefined();
  });

  it('hl-smi -Q power.draw, with and without its header', () => {
    expect(parseHlSmiPower(fixture('hl-smi-power.csv'))).toEqual({ watts: 197, devices: 3 });
    expect(parseHlSmiPower(fixture('hl-smi-power-noheader.csv'))).toEqual({ watts: 197, devices: 2 });
  });
});

describe('RAPL files', () => {
  it('energy_uj and max_energy_range_uj are microjoules', () => {
    expect(parseMicrojoules('262143328850\n')).toBeCloseTo(262143.32885, 6);
    expect(parseMicrojoules('')).toBeUndefined();
    expect(parseMicrojoules('-1')).toBeUndefined();
  });
});
