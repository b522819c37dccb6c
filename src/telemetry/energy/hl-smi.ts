// Intel Gaudi through hl-smi: `hl-smi -Q power.draw -f csv,noheader` prints one line per device in
// nvidia-smi's CSV style, the value with its unit ("95 W"); "N/A" where unsupported. Watts, integrated.

import { cellNumber, startPolledPowerTool, sumDefined, type PowerSource } from './power-source.ts';

const TOOL = 'hl-smi';
export const HL_SMI_ARGS = ['-Q', 'power.draw', '-f', 'csv,noheader'];

/** Total watts over the devices in `hl-smi -Q power.draw -f csv,noheader` (a header line, if present, is skipped). */
export function parseHlSmiPower(stdout: string): { watts?: number; devices: number } {
  const lines = stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !/^power\.draw/i.test(l));
  const total = sumDefined(lines.map((l) => cellNumber(l.split(',')[0])));
  return { ...(total !== undefined && { watts: total }), devices: lines.length };
}

export const hlSmi: PowerSource = {
  name: TOOL,
  start: (io, options = {}) => startPolledPowerTool(io, TOOL, HL_SMI_ARGS, parseHlSmiPower, options.intervalMs ?? 100),
};
