// The edge of core/machine-load.ts: while a case is timed, or a backend comes up, reads the scheduler statistics
// of every thread of every process conform started (the backends, and whatever they started) five times a
// second. Conform's own threads are left out: they mostly sleep, and each wake-up of the meter itself would
// count as load. Linux only; elsewhere, where /proc hides them, or for a backend conform did not start, a meter
// measures nothing and timed checks judge wall time as they always did.
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { holdsUpWork, machineLoad, parseSchedstat, parseThreadStat, waitBetween, waitInWindow, type LoadReading, type ThreadTimes, type WaitTimeline } from '../core/machine-load.ts';
import type { MachineLoad } from '../core/types.ts';

export interface LoadMeterOptions {
  /**
   * Milliseconds between readings. At the default, readings cost 0.4 to 0.9 % of a core (a 12-thread conform
   * serve). Waits longer than a tick are cut, and threads taking turns inside one tick count once: 100 ms read
   * 26.6 s and 200 ms 26.8 s without the wait for one recorded Vulkan cold start of 55.3 s. @default 200
   */
  intervalMs?: number;
  /** The process whose descendants are measured. @default process.pid */
  rootPid?: number;
  /** Measure the root process's own threads too: for a meter pointed at a backend, not at conform. @default false */
  includeRoot?: boolean;
  /** CPUs the measured processes may use. @default os.availableParallelism() (the affinity mask, not a cgroup quota) */
  cores?: number;
}

export interface LoadMeter {
  /** Takes a last reading, stops, and gives the load over the whole time it ran; undefined where no process of conform's could be read. */
  stop(): MachineLoad | undefined;
  /** Wall time and CPU wait between two instants (performance.now()) inside the time the meter ran; exact once it has stopped. */
  window(fromMs: number, toMs: number): { wallMs: number; cpuWaitMs: number };
  /** CPU wait up to the latest reading. */
  waitSoFar(): number;
}

// A backend with a runaway process tree must not turn every reading into a crawl over /proc.
const MAX_PROCESSES = 64;

const round = (ms: number): number => Math.round(ms * 10) / 10;

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined; // the thread or process ended between listing and reading
  }
}

function tasksOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).map(Number);
  } catch {
    return [];
  }
}

// Children of the main thread only: node, llama.cpp and Mesa start processes from it, and reading every
// thread's list doubled the cost of a reading.
function childrenOf(pid: number): number[] {
  return (read(`/proc/${pid}/task/${pid}/children`) ?? '').split(/\s+/).filter(Boolean).map(Number);
}

/** Whether each thread seen counts; a thread keeps its priority in practice, so it is read once. */
type Counted = Map<number, boolean>;

function counts(pid: number, tid: number, counted: Counted): boolean {
  let yes = counted.get(tid);
  if (yes === undefined) {
    const main = parseThreadStat(read(`/proc/${pid}/stat`) ?? '');
    const thread = tid === pid ? main : parseThreadStat(read(`/proc/${pid}/task/${tid}/stat`) ?? '');
    yes = !main || !thread || holdsUpWork(thread, main);
    counted.set(tid, yes);
  }
  return yes;
}

/** Every thread of the root's descendants (and of the root, with includeRoot) but background ones. */
function readThreads(rootPid: number, includeRoot: boolean, counted: Counted): Map<number, ThreadTimes> {
  const threads = new Map<number, ThreadTimes>();
  const queue = includeRoot ? [rootPid] : childrenOf(rootPid);
  const seen = new Set<number>(includeRoot ? [] : [rootPid]);
  while (queue.length > 0 && seen.size < MAX_PROCESSES) {
    const pid = queue.shift()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    queue.push(...childrenOf(pid));
    for (const tid of tasksOf(pid)) {
      if (!counts(pid, tid, counted)) continue;
      const times = parseSchedstat(read(`/proc/${pid}/task/${tid}/schedstat`) ?? '');
      if (times) threads.set(tid, times);
    }
  }
  return threads;
}

/** Starts reading now and every `intervalMs` until stopped. */
export function startLoadMeter(options: LoadMeterOptions = {}): LoadMeter {
  const rootPid = options.rootPid ?? process.pid;
  const cores = options.cores ?? availableParallelism();
  const includeRoot = options.includeRoot ?? false;
  const counted: Counted = new Map();
  const startedAt = performance.now();
  let last: LoadReading = { atMs: startedAt, threads: readThreads(rootPid, includeRoot, counted) };
  let measured = last.threads.size > 0;
  const timeline: Array<{ atMs: number; waitMs: number }> = [{ atMs: startedAt, waitMs: 0 }];
  const tick = () => {
    const reading = { atMs: performance.now(), threads: readThreads(rootPid, includeRoot, counted) };
    measured ||= reading.threads.size > 0;
    timeline.push({ atMs: reading.atMs, waitMs: timeline.at(-1)!.waitMs + waitBetween(last, reading, cores) });
    last = reading;
  };
  const timer = setInterval(tick, options.intervalMs ?? 200);
  timer.unref();
  let stoppedAt: number | undefined;
  return {
    window: (fromMs, toMs) => ({ wallMs: round(Math.max(0, toMs - fromMs)), cpuWaitMs: round(waitInWindow(timeline as WaitTimeline, fromMs, toMs)) }),
    waitSoFar: () => timeline.at(-1)!.waitMs,
    stop() {
      if (stoppedAt === undefined) {
        clearInterval(timer);
        tick();
        stoppedAt = performance.now();
      }
      return measured ? machineLoad(stoppedAt - startedAt, timeline.at(-1)!.waitMs) : undefined;
    },
  };
}
