// The config's cost, power, metrics and labels: accepted when well formed, one clear line when not.

import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/default-config.ts';
import { validateConfig } from '../../src/config/load-config.ts';

const backend = (extra: Record<string, unknown>) => ({ backends: [{ name: 'gpu', class: 'gpu', model: 'm', baseUrl: 'http://gpu-box:8000/v1', ...extra }] });
const message = (raw: unknown) => {
  try {
    validateConfig(raw, 'conform.config.yaml');
  } catch (error) {
    return (error as Error).message;
  }
  return 'accepted';
};

describe('telemetry in the config', () => {
  it('accepts a machine price, an API price, a power source, a metrics URL and labels', () => {
    const config = validateConfig(
      backend({ cost: { perHour: 2.5, currency: 'EUR' }, power: { source: 'nvidia-smi', pue: 1.3, pricePerKWh: 0.25 }, metrics: { url: 'http://gpu-box:8002/metrics', intervalMs: 500 }, labels: { region: 'eu-west' } }),
      'c',
    );
    expect(config.backends[0]).toMatchObject({ cost: { perHour: 2.5 }, power: { source: 'nvidia-smi' }, labels: { region: 'eu-west' } });
    expect(message(backend({ cost: { per1kInput: 0.5, per1kOutput: 1.5 }, metrics: false }))).toBe('accepted');
  });

  it('the default config prices every built-in backend, marked as an example', () => {
    for (const b of DEFAULT_CONFIG.backends) expect(b.cost).toEqual({ perHour: 0.1, currency: 'USD', note: expect.stringMatching(/^example price/) });
  });

  it('names the field and what was expected', () => {
    expect(message(backend({ cost: {} }))).toBe('conform.config.yaml: /backends/0/cost needs either perHour (a machine price) or both per1kInput and per1kOutput (an API price), not both, for example { perHour: 2.5, currency: "USD" }');
    expect(message(backend({ cost: { perHour: 1, per1kInput: 1, per1kOutput: 1 } }))).toMatch(/\/backends\/0\/cost needs either perHour/);
    expect(message(backend({ cost: { perHour: -1 } }))).toMatch(/^conform.config.yaml: \/backends\/0\/cost\/perHour must be > 0/);
    expect(message(backend({ power: { source: 'watts' } }))).toMatch(/\/backends\/0\/power\/source must be equal to one of the allowed values: "auto", "rapl", "nvidia-smi", "rocm-smi", "amd-smi", "npu-smi", "hl-smi", "none"/);
    expect(message(backend({ power: { pue: 0.5 } }))).toMatch(/\/backends\/0\/power\/pue must be >= 1/);
    expect(message(backend({ metrics: true }))).toBe('conform.config.yaml: /backends/0/metrics must be false (do not scrape) or an object with url and intervalMs, for example { url: "http://gpu-box:8002/metrics" }');
    expect(message(backend({ metrics: { url: 'gpu-box:8002' } }))).toMatch(/\/backends\/0\/metrics\/url must match pattern/);
    expect(message(backend({ labels: { region: 3 } }))).toMatch(/\/backends\/0\/labels\/region must be string/);
  });
});
