// AMD GPUs through the older rocm-smi: `rocm-smi --showpower --json` prints one object per card,
// `{"card0": {"Average Graphics Package Power (W)": "35.0"}}`; ROCm 6 on MI300 names the key
// "Current Socket Graphics Package Power (W)" and may give numbers instead of strings. Watts, integrated.

import { cellNumber, startPolledPowerTool, sumDefined, type PowerSource } from './power-source.ts';

const TOOL = 'rocm-smi';
export const ROCM_SMI_ARGS = ['--showpower', '--json'];
const POWER_KEYS = ['Current Socket Graphics Package Power (W)', 'Average Graphics Package Power (W)'];

/** Total watts over the cards in `rocm-smi --showpower --json`, and how many cards it listed. */
export function parseRocmSmiPower(stdout: string): { watts?: number; devices: number } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout.slice(stdout.indexOf('{')));
  } catch {
    throw new Error(`${TOOL} ${ROCM_SMI_ARGS.join(' ')} did not print JSON: ${stdout.trim().split('\n')[0]?.slice(0, 120) ?? ''}`);
  }
  const cards = Object.entries(parsed as Record<string, unknown>).filter(([key, value]) => /^card\d+$/.test(key) && value && typeof value === 'object');
  const watts = cards.map(([, card]) => {
    const fields = card as Record<string, unknown>;
    const key = POWER_KEYS.find((k) => cellNumber(fields[k] as string | number) !== undefined);
    return key === undefined ? undefined : cellNumber(fields[key] as string | number);
  });
  const total = sumDefined(watts);
  return { ...(total !== undefined && { watts: total }), devices: cards.length };
}

export const rocmSmi: PowerSource = {
  name: TOOL,
  start: (io, options = {}) => startPolledPowerTool(io, TOOL, ROCM_SMI_ARGS, parseRocmSmiPower, options.intervalMs ?? 100),
};
