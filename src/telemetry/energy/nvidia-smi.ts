// NVIDIA GPUs through nvidia-smi. The NVML energy counter (`total_energy_consumption`, millijoules since
// the driver loaded, Volta and newer) is read when the driver offers it through the CLI; otherwise
// `power.draw` is streamed every 100 ms (`-lms 100`) and integrated. Output format: nvidia-smi's
// `--query-gpu ... --format=csv,noheader,nounits`, one line per GPU, cells separated by ", ",
// unsupported cells as "[N/A]" or "[Not Supported]".

import { cellNumber, exitProblem, pollSamples, sumDefined, toolProblem, type PowerIo, type PowerSample, type PowerSource, type PowerStart } from './power-source.ts';

const TOOL = 'nvidia-smi';
export const NVIDIA_ENERGY_ARGS = ['--query-gpu=index,total_energy_consumption', '--format=csv,noheader,nounits'];
export const NVIDIA_POWER_ARGS = ['--query-gpu=index,power.draw', '--format=csv,noheader,nounits', '-lms', '100'];
/** How long the streamed tool may take to print its first full reading. */
const FIRST_READING_MS = 3_000;

/** One CSV line of `index, value`: the GPU index and its number, undefined for N/A. */
export function parseNvidiaLine(line: string): { index: number; value: number | undefined } | undefined {
  const cells = line.split(',').map((c) => c.trim());
  if (cells.length < 2 || !/^\d+$/.test(cells[0]!)) return undefined;
  return { index: Number(cells[0]), value: cellNumber(cells[1]) };
}

/** `index, total_energy_consumption` lines → joules per GPU (undefined where the GPU has no counter). */
export function parseNvidiaEnergy(stdout: string): Array<number | undefined> {
  return stdout
    .split('\n')
    .map(parseNvidiaLine)
    .filter((l) => l !== undefined)
    .map((l) => (l!.value === undefined ? undefined : l!.value / 1000));
}

/**
 * Groups streamed `index, power.draw` lines into one reading per period: nvidia-smi prints every GPU in
 * index order each period, so a line for a GPU already seen begins the next reading.
 */
export function createNvidiaPowerGrouper(onReading: (watts: number | undefined, gpus: number) => void): { push(line: string): void; flush(): void } {
  let seen = new Set<number>();
  let values: Array<number | undefined> = [];
  const flush = () => {
    if (seen.size) onReading(sumDefined(values), seen.size);
    seen = new Set();
    values = [];
  };
  return {
    push(line) {
      const parsed = parseNvidiaLine(line);
      if (!parsed) return;
      if (seen.has(parsed.index)) flush();
      seen.add(parsed.index);
      values.push(parsed.value);
    },
    flush,
  };
}

async function startCounter(io: PowerIo, intervalMs: number): Promise<PowerStart | undefined> {
  let first: Array<number | undefined>;
  try {
    const result = await io.run(TOOL, NVIDIA_ENERGY_ARGS, 5_000);
    // Drivers whose CLI lacks the field answer "not a valid field to query": fall back to power.draw.
    if (result.exitCode !== 0) return undefined;
    first = parseNvidiaEnergy(result.stdout);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return { unavailable: toolProblem(TOOL, error) };
    return undefined;
  }
  if (first.length === 0 || first.some((j) => j === undefined)) return undefined;
  const start: PowerSample = { t: io.now(), counters: first as number[] };
  const poller = pollSamples(io, intervalMs, async () => {
    const result = await io.run(TOOL, NVIDIA_ENERGY_ARGS, 5_000);
    if (result.exitCode !== 0) throw new Error(exitProblem(TOOL, result));
    const counters = parseNvidiaEnergy(result.stdout);
    return counters.length === first.length && counters.every((c) => c !== undefined) ? { t: io.now(), counters: counters as number[] } : undefined;
  });
  return {
    method: 'counter',
    device: `${first.length} GPU${first.length === 1 ? '' : 's'} (NVML total energy through nvidia-smi)`,
    async stop() {
      const done = await poller.stop();
      return { ...done, samples: [start, ...done.samples] };
    },
  };
}

async function startStream(io: PowerIo): Promise<PowerStart> {
  const samples: PowerSample[] = [];
  let gpus = 0;
  const grouper = createNvidiaPowerGrouper((watts, count) => {
    gpus = Math.max(gpus, count);
    if (watts !== undefined) samples.push({ t: io.now(), watts });
  });
  const proc = io.stream(TOOL, NVIDIA_POWER_ARGS, (line) => grouper.push(line));
  const waiting = new AbortController();
  // The first full reading, or the process ending, tells whether this works at all.
  const started = await Promise.race([
    proc.exited,
    (async () => {
      for (let waited = 0; waited < FIRST_READING_MS && samples.length === 0; waited += 20) await io.sleep(20, waiting.signal);
      return undefined;
    })(),
  ]);
  waiting.abort();
  if (started) return { unavailable: started.errorCode ? toolProblem(TOOL, { code: started.errorCode }) : exitProblem(TOOL, { ...started, stdout: '' }) };
  if (samples.length === 0) {
    await proc.stop();
    return { unavailable: `${TOOL} gave no power.draw reading within ${FIRST_READING_MS / 1000} s ([N/A] on every GPU?)` };
  }
  let ended: string | undefined;
  void proc.exited.then((e) => (ended ??= `${TOOL} stopped while sampling (${e.exitCode === null ? 'a signal' : `exit ${e.exitCode}`}): the energy covers only the time before`));
  return {
    method: 'integrated-power',
    device: `${gpus} GPU${gpus === 1 ? '' : 's'} (power.draw through nvidia-smi -lms 100)`,
    async stop() {
      const problem = ended;
      await proc.stop();
      grouper.flush();
      return { samples, ...(problem && { problem }) };
    },
  };
}

export const nvidiaSmi: PowerSource = {
  name: TOOL,
  async start(io, options = {}) {
    return (await startCounter(io, options.intervalMs ?? 250)) ?? (await startStream(io));
  },
};
