// The energy seam: one interface for every way of reading a device's power, one file per tool. Sources
// touch the machine only through PowerIo, so their parsers and logic stay testable; node-power-io.ts is
// the real one.

import type { MeasuringPowerSource } from '../../core/telemetry-types.ts';

/** The outside world as a power source sees it. */
export interface PowerIo {
  /** The whole file as text; rejects with Node's error (code ENOENT, EACCES). */
  readFile(path: string): Promise<string>;
  readDir(path: string): Promise<string[]>;
  /** Runs a command to its end; rejects with code ENOENT when it is not installed. */
  run(command: string, args: string[], timeoutMs: number): Promise<{ exitCode: number | null; stdout: string; stderr: string }>;
  /** Starts a long-running command, handing each line of its stdout to `onLine`. */
  stream(command: string, args: string[], onLine: (line: string) => void): PowerProcess;
  /** Epoch milliseconds on the clock the request log uses. */
  now(): number;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /** Where RAPL lives. @default '/sys/class/powercap' */
  powercapRoot: string;
}

export interface PowerProcess {
  /** Resolves when the command ends by itself: its exit code, the start of its stderr, and the spawn error's code (ENOENT) if it never ran. */
  exited: Promise<{ exitCode: number | null; stderr: string; errorCode?: string }>;
  stop(): Promise<void>;
}

/** One reading: cumulative joules per domain (counters), or total watts now (power). */
export interface PowerSample {
  t: number;
  counters?: number[];
  watts?: number;
}

export interface PowerStream {
  method: 'counter' | 'integrated-power';
  /** What is measured, for the report: "RAPL package-0, package-1", "2 GPUs (nvidia-smi)". */
  device: string;
  /** Counter range per domain, in joules, where the counter wraps (RAPL's max_energy_range_uj). */
  wrapJoules?: Array<number | undefined>;
  /** Ends sampling and hands back every sample, oldest first, and the first trouble met on the way. */
  stop(): Promise<{ samples: PowerSample[]; problem?: string }>;
}

export interface PowerSourceOptions {
  /** Milliseconds between readings of a polled source. @default 100 for power, 250 for counters */
  intervalMs?: number;
}

/** Either sampling has begun, or the one-line reason this machine cannot be measured this way. */
export type PowerStart = PowerStream | { unavailable: string };

export interface PowerSource {
  readonly name: MeasuringPowerSource;
  start(io: PowerIo, options?: PowerSourceOptions): Promise<PowerStart>;
}

/**
 * Calls `read` every `intervalMs` (after the previous read returned, so a slow tool is never run twice at
 * once) until stopped. A read that throws is remembered once and sampling goes on.
 */
export function pollSamples(io: PowerIo, intervalMs: number, read: () => Promise<PowerSample | undefined>): { stop(): Promise<{ samples: PowerSample[]; problem?: string }> } {
  const samples: PowerSample[] = [];
  const controller = new AbortController();
  let problem: string | undefined;
  const loop = (async () => {
    while (!controller.signal.aborted) {
      try {
        const sample = await read();
        if (sample) samples.push(sample);
      } catch (error) {
        problem ??= (error as Error).message;
      }
      await io.sleep(intervalMs, controller.signal);
    }
  })();
  return {
    async stop() {
      controller.abort();
      await loop;
      // One last reading closes the window exactly where the requests ended.
      try {
        const last = await read();
        if (last) samples.push(last);
      } catch (error) {
        problem ??= (error as Error).message;
      }
      return { samples, ...(problem !== undefined && { problem }) };
    },
  };
}

/** Why a tool could not be run, in one line: not installed, or its own first line of complaint. */
export function toolProblem(tool: string, error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  if (code === 'ENOENT') return `${tool} is not installed here (not on PATH)`;
  return `${tool} could not be run: ${(error as Error)?.message ?? String(error)}`;
}

/** The first non-empty line of a tool's complaint, or its exit code. */
export function exitProblem(tool: string, result: { exitCode: number | null; stdout: string; stderr: string }): string {
  const line = `${result.stderr}\n${result.stdout}`.split('\n').map((l) => l.trim()).find(Boolean);
  return `${tool} exited with ${result.exitCode ?? 'a signal'}${line ? `: ${line.slice(0, 200)}` : ''}`;
}

/** A number from a tool's cell: "71.58", "71.58 W", "[N/A]" (undefined), "N/A". */
export function cellNumber(cell: string | number | undefined | null): number | undefined {
  if (typeof cell === 'number') return Number.isFinite(cell) ? cell : undefined;
  if (typeof cell !== 'string') return undefined;
  const match = /^\s*([-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*([a-zA-Z]*)\s*$/.exec(cell);
  return match ? Number(match[1]) : undefined;
}

/** Sum of defined values, or undefined when none is: a device with no reading is not 0 W. */
export function sumDefined(values: Array<number | undefined>): number | undefined {
  const known = values.filter((v): v is number => v !== undefined);
  return known.length ? known.reduce((s, v) => s + v, 0) : undefined;
}

/** Polls a tool that prints watts, parsed by `parse`, as an integrated-power stream; probes it once first. */
export async function startPolledPowerTool(
  io: PowerIo,
  tool: string,
  args: string[],
  parse: (stdout: string) => { watts?: number; devices: number },
  intervalMs: number,
  timeoutMs = 5_000,
): Promise<PowerStart> {
  const readOnce = async () => {
    const result = await io.run(tool, args, timeoutMs);
    if (result.exitCode !== 0) throw new Error(exitProblem(tool, result));
    return parse(result.stdout);
  };
  let first: { watts?: number; devices: number };
  try {
    first = await readOnce();
  } catch (error) {
    return { unavailable: (error as { code?: unknown }).code === 'ENOENT' ? toolProblem(tool, error) : (error as Error).message };
  }
  if (first.watts === undefined)
    return { unavailable: first.devices === 0 ? `${tool} ${args.join(' ')} listed no device` : `${tool} ${args.join(' ')} gave no power reading (N/A on every device)` };
  const poller = pollSamples(io, intervalMs, async () => {
    const reading = await readOnce();
    return reading.watts === undefined ? undefined : { t: io.now(), watts: reading.watts };
  });
  return { method: 'integrated-power', device: `${first.devices} device${first.devices === 1 ? '' : 's'} (${tool})`, stop: () => poller.stop() };
}
