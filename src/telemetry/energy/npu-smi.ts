// Huawei Ascend NPUs through npu-smi. `npu-smi info -l` lists the devices ("NPU ID : 0"), and
// `npu-smi info -t power -i <id>` prints "key : value" lines per chip: "NPU Real-time Power(W)" for a chip
// and, on cards with an MCU, "Power Dissipation(W)" for the whole card (Ascend docs, npu-smi "query the
// power of all chips"). The whole-card figure is taken where given, else the chips' sum. Watts, integrated.

import { cellNumber, exitProblem, pollSamples, sumDefined, toolProblem, type PowerIo, type PowerSource } from './power-source.ts';

const TOOL = 'npu-smi';
export const NPU_SMI_LIST_ARGS = ['info', '-l'];
export const npuSmiPowerArgs = (id: number) => ['info', '-t', 'power', '-i', String(id)];

function fields(stdout: string): Array<[string, string]> {
  return stdout.split('\n').flatMap((line) => {
    const at = line.indexOf(':');
    return at < 0 ? [] : [[line.slice(0, at).trim(), line.slice(at + 1).trim()] as [string, string]];
  });
}

/** The device ids in `npu-smi info -l`. */
export function parseNpuSmiList(stdout: string): number[] {
  return fields(stdout).flatMap(([key, value]) => (key === 'NPU ID' && /^\d+$/.test(value) ? [Number(value)] : []));
}

/** One device's watts from `npu-smi info -t power -i <id>`: the whole card where reported, else its chips' sum. */
export function parseNpuSmiPower(stdout: string): number | undefined {
  const all = fields(stdout);
  const card = sumDefined(all.filter(([k]) => k === 'Power Dissipation(W)').map(([, v]) => cellNumber(v)));
  return card ?? sumDefined(all.filter(([k]) => k === 'NPU Real-time Power(W)').map(([, v]) => cellNumber(v)));
}

async function readAll(io: PowerIo, ids: number[]): Promise<number | undefined> {
  const watts: Array<number | undefined> = [];
  for (const id of ids) {
    const result = await io.run(TOOL, npuSmiPowerArgs(id), 5_000);
    if (result.exitCode !== 0) throw new Error(exitProblem(TOOL, result));
    watts.push(parseNpuSmiPower(result.stdout));
  }
  return sumDefined(watts);
}

export const npuSmi: PowerSource = {
  name: TOOL,
  async start(io, options = {}) {
    let ids: number[];
    try {
      const list = await io.run(TOOL, NPU_SMI_LIST_ARGS, 5_000);
      if (list.exitCode !== 0) return { unavailable: exitProblem(TOOL, list) };
      ids = parseNpuSmiList(list.stdout);
    } catch (error) {
      return { unavailable: toolProblem(TOOL, error) };
    }
    if (ids.length === 0) return { unavailable: `${TOOL} ${NPU_SMI_LIST_ARGS.join(' ')} listed no NPU` };
    try {
      if ((await readAll(io, ids)) === undefined) return { unavailable: `${TOOL} info -t power gave no power reading for NPU ${ids.join(', ')}` };
    } catch (error) {
      return { unavailable: (error as Error).message };
    }
    const poller = pollSamples(io, options.intervalMs ?? 100, async () => {
      const watts = await readAll(io, ids);
      return watts === undefined ? undefined : { t: io.now(), watts };
    });
    return { method: 'integrated-power', device: `NPU ${ids.join(', ')} (npu-smi)`, stop: () => poller.stop() };
  },
};
