// Which power source measures a backend: the one its config names, or for `auto` the first that works
// among those its class suggests. Also turns a source's samples into joules (core/energy.ts).

import { counterEnergy, integratePower } from '../../core/energy.ts';
import type { EnergySeries } from '../../core/energy.ts';
import type { EnergyFigures, MeasuringPowerSource, PowerSourceName } from '../../core/telemetry-types.ts';
import { amdSmi } from './amd-smi.ts';
import { hlSmi } from './hl-smi.ts';
import { npuSmi } from './npu-smi.ts';
import { nvidiaSmi } from './nvidia-smi.ts';
import type { PowerIo, PowerSample, PowerSource, PowerStream } from './power-source.ts';
import { rapl } from './rapl.ts';
import { rocmSmi } from './rocm-smi.ts';

/** Every source by the name a config uses: exactly these. */
export const POWER_SOURCE_REGISTRY: Readonly<Record<MeasuringPowerSource, PowerSource>> = {
  rapl,
  'nvidia-smi': nvidiaSmi,
  'rocm-smi': rocmSmi,
  'amd-smi': amdSmi,
  'npu-smi': npuSmi,
  'hl-smi': hlSmi,
};

/**
 * What `auto` tries, by tolerance class. A CPU backend (software Vulkan included: llvmpipe runs on the
 * CPU) is the CPU package; an accelerator is its vendor's tool; an unknown class tries them all.
 */
export function autoCandidates(backendClass: string): MeasuringPowerSource[] {
  switch (backendClass) {
    case 'cpu':
    case 'cpu-q8':
    case 'software-gpu':
      return ['rapl'];
    case 'gpu':
      return ['nvidia-smi'];
    case 'rocm':
      return ['amd-smi', 'rocm-smi'];
    case 'npu':
      return ['npu-smi'];
    default:
      return ['nvidia-smi', 'amd-smi', 'rocm-smi', 'npu-smi', 'hl-smi', 'rapl'];
  }
}

/** What a power session gathered: a cumulative energy series (epoch ms, joules), or why there is none. */
export interface EnergyMeasurement {
  requested: PowerSourceName;
  source: MeasuringPowerSource | 'none';
  method?: EnergyFigures['method'];
  device?: string;
  series: EnergySeries;
  samples: number;
  reason?: string;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]', '0.0.0.0']);

/** A backend conform reaches on another machine: its power cannot be read from here. */
export function remoteHost(baseUrl: string | undefined): string | undefined {
  if (!baseUrl) return undefined;
  try {
    const host = new URL(baseUrl).hostname;
    return LOOPBACK.has(host) || host.startsWith('127.') ? undefined : host;
  } catch {
    return undefined;
  }
}

export interface PowerSession {
  requested: PowerSourceName;
  stop(): Promise<EnergyMeasurement>;
}

const noMeasurement = (requested: PowerSourceName, reason: string): PowerSession => ({
  requested,
  stop: async () => ({ requested, source: 'none', series: [], samples: 0, reason }),
});

function measurement(requested: PowerSourceName, source: MeasuringPowerSource, stream: PowerStream, samples: PowerSample[], problem: string | undefined): EnergyMeasurement {
  const base = { requested, source, method: stream.method, device: stream.device, samples: samples.length };
  if (stream.method === 'counter') {
    const { series, resets } = counterEnergy(samples.filter((s) => s.counters).map((s) => ({ t: s.t, counters: s.counters! })), stream.wrapJoules ?? []);
    const notes = [problem, resets ? `the counter went back ${resets} time${resets === 1 ? '' : 's'} with no known range: the figure is a lower bound` : undefined].filter(Boolean);
    return { ...base, series, ...(notes.length && { reason: notes.join('; ') }) };
  }
  const series = integratePower(samples.filter((s) => s.watts !== undefined).map((s) => ({ t: s.t, watts: s.watts! })));
  return { ...base, series, ...(problem && { reason: problem }) };
}

/** Starts measuring a backend's power as its config says; never throws, and a source that cannot measure becomes the reason. */
export async function startPowerSession(options: { source?: PowerSourceName; backendClass: string; baseUrl?: string; io: PowerIo }): Promise<PowerSession> {
  const requested = options.source ?? 'auto';
  if (requested === 'none') return noMeasurement(requested, 'power measurement is off for this backend (power.source: none)');
  const remote = remoteHost(options.baseUrl);
  if (requested === 'auto' && remote)
    return noMeasurement(requested, `the backend runs on ${remote}, not on this machine, so its power cannot be read from here (set power.source where conform runs beside it)`);
  const candidates = requested === 'auto' ? autoCandidates(options.backendClass) : [requested];
  const tried: string[] = [];
  for (const name of candidates) {
    let started;
    try {
      started = await POWER_SOURCE_REGISTRY[name].start(options.io);
    } catch (error) {
      started = { unavailable: `${name} failed to start: ${(error as Error).message}` };
    }
    if ('unavailable' in started) {
      tried.push(started.unavailable);
      continue;
    }
    const stream = started;
    return {
      requested,
      async stop() {
        try {
          const { samples, problem } = await stream.stop();
          return measurement(requested, name, stream, samples, problem);
        } catch (error) {
          return { requested, source: name, series: [], samples: 0, reason: `${name} failed while sampling: ${(error as Error).message}` };
        }
      },
    };
  }
  const why = requested === 'auto' ? `auto (class ${options.backendClass}) tried ${candidates.join(', ')}: ${tried.join('; ')}` : tried.join('; ');
  return noMeasurement(requested, why);
}
