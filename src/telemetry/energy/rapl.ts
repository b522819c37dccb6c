// CPU packages through Linux's powercap RAPL: /sys/class/powercap/intel-rapl:<n>/energy_uj, a counter in
// microjoules that wraps to 0 after max_energy_range_uj (AMD's RAPL appears under the same name). Only
// top-level zones are read: subzones (intel-rapl:0:0, core and uncore) are part of their package, and
// psys overlaps the packages, so either would count energy twice.

import { join } from 'node:path/posix';
import { pollSamples, type PowerIo, type PowerSource } from './power-source.ts';

const ZONE = /^intel-rapl:\d+$/;

interface Zone {
  path: string;
  name: string;
  wrapJoules?: number;
}

/** A powercap file's number in microjoules, as joules; undefined when it holds no integer. */
export function parseMicrojoules(text: string): number | undefined {
  const trimmed = text.trim();
  return /^\d+$/.test(trimmed) ? Number(trimmed) / 1e6 : undefined;
}

function unreadable(root: string, error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === 'ENOENT') return `no ${root} on this machine: RAPL is not exposed here (common in VMs and containers)`;
  if (code === 'EACCES' || code === 'EPERM')
    return `permission denied reading ${root}'s energy_uj: it is readable by root only since Linux 5.10 (CVE-2020-8694); run as root or grant read access`;
  return `${root} could not be read: ${(error as Error).message}`;
}

async function zonesOf(io: PowerIo): Promise<Zone[] | string> {
  const root = io.powercapRoot;
  let entries: string[];
  try {
    entries = await io.readDir(root);
  } catch (error) {
    return unreadable(root, error);
  }
  const zones: Zone[] = [];
  for (const entry of entries.filter((e) => ZONE.test(e)).sort()) {
    const path = join(root, entry);
    const name = (await io.readFile(join(path, 'name')).catch(() => entry)).trim();
    if (name.startsWith('psys')) continue;
    const range = parseMicrojoules(await io.readFile(join(path, 'max_energy_range_uj')).catch(() => ''));
    zones.push({ path, name, ...(range !== undefined && { wrapJoules: range }) });
  }
  return zones.length ? zones : `${root} has no intel-rapl package zone (entries: ${entries.join(', ') || 'none'})`;
}

async function readCounters(io: PowerIo, zones: Zone[]): Promise<number[]> {
  return Promise.all(
    zones.map(async (zone) => {
      const joules = parseMicrojoules(await io.readFile(join(zone.path, 'energy_uj')));
      if (joules === undefined) throw new Error(`${join(zone.path, 'energy_uj')} holds no counter`);
      return joules;
    }),
  );
}

export const rapl: PowerSource = {
  name: 'rapl',
  async start(io, options = {}) {
    const zones = await zonesOf(io);
    if (typeof zones === 'string') return { unavailable: zones };
    let first;
    try {
      first = { t: io.now(), counters: await readCounters(io, zones) };
    } catch (error) {
      return { unavailable: unreadable(io.powercapRoot, error) };
    }
    // A package near 100 W wraps a 262 kJ range in about 45 minutes; four readings a second never miss one.
    const poller = pollSamples(io, options.intervalMs ?? 250, async () => ({ t: io.now(), counters: await readCounters(io, zones) }));
    return {
      method: 'counter',
      device: `RAPL ${zones.map((z) => z.name).join(', ')}`,
      wrapJoules: zones.map((z) => z.wrapJoules),
      async stop() {
        const done = await poller.stop();
        // The reading taken before start() returned opens the window.
        return { ...done, samples: [first, ...done.samples] };
      },
    };
  },
};
