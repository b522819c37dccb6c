// AMD GPUs through amd-smi (ROCm 6 and later): `amd-smi metric --power --json` prints a list of GPUs
// (older releases) or `{"gpu_data": [...]}` (newer), each with
// `"power": {"socket_power": {"value": 142, "unit": "W"}, ...}`; unsupported values are "N/A".
// amdsmi_power_info_t names the fields: socket_power, current_socket_power (MI300+),
// average_socket_power (Navi, MI200 and earlier). Watts, integrated.

import { cellNumber, startPolledPowerTool, sumDefined, type PowerSource } from './power-source.ts';

const TOOL = 'amd-smi';
export const AMD_SMI_ARGS = ['metric', '--power', '--json'];
const POWER_FIELDS = ['socket_power', 'current_socket_power', 'average_socket_power'];

function valueOf(field: unknown): number | undefined {
  if (field && typeof field === 'object' && 'value' in field) {
    const { value, unit } = field as { value: unknown; unit?: unknown };
    const n = cellNumber(value as string | number);
    // The host flavour reports microwatts.
    return n !== undefined && unit === 'uW' ? n / 1e6 : n;
  }
  return cellNumber(field as string | number);
}

/** Total watts over the GPUs in `amd-smi metric --power --json`, and how many it listed. */
export function parseAmdSmiPower(stdout: string): { watts?: number; devices: number } {
  const start = stdout.search(/[[{]/);
  let parsed: unknown;
  try {
    parsed = JSON.parse(start < 0 ? stdout : stdout.slice(start));
  } catch {
    throw new Error(`${TOOL} ${AMD_SMI_ARGS.join(' ')} did not print JSON: ${stdout.trim().split('\n')[0]?.slice(0, 120) ?? ''}`);
  }
  const gpus = Array.isArray(parsed) ? parsed : Array.isArray((parsed as { gpu_data?: unknown })?.gpu_data) ? (parsed as { gpu_data: unknown[] }).gpu_data : [];
  const watts = gpus.map((gpu) => {
    const power = (gpu as { power?: Record<string, unknown> })?.power;
    if (!power || typeof power !== 'object') return undefined;
    for (const name of POWER_FIELDS) {
      const value = valueOf(power[name]);
      if (value !== undefined) return value;
    }
    return undefined;
  });
  const total = sumDefined(watts);
  return { ...(total !== undefined && { watts: total }), devices: gpus.length };
}

export const amdSmi: PowerSource = {
  name: TOOL,
  start: (io, options = {}) => startPolledPowerTool(io, TOOL, AMD_SMI_ARGS, parseAmdSmiPower, options.intervalMs ?? 100),
};
