// How busy the machine was while conform timed something, and what a timed figure is once the time spent
// waiting for a CPU is taken out. Pure: the readings come from src/run/load-meter.ts, which reads the
// kernel's per-thread scheduler statistics (/proc/<pid>/task/<tid>/schedstat: nanoseconds on a CPU,
// nanoseconds runnable but waiting for one).
//
// Why the wait of the measured threads and not a calibration workload: the wait is what load does to the
// work being timed, so a backend that is slow for its own reasons (it sleeps, it computes 10x more) waits no
// more than before and still fails. A tiny timed probe is favoured by the scheduler after each sleep and
// under-reads contention, and a reference measured "in the same run" is loaded too when the load lasts the
// whole run.

import type { MachineLoad } from './types.ts';

/** One thread's scheduler counters, in nanoseconds since it started. */
export interface ThreadTimes {
  runNs: number;
  waitNs: number;
}

/** The measured threads' counters at one monotonic instant, by thread id. */
export interface LoadReading {
  atMs: number;
  threads: ReadonlyMap<number, ThreadTimes>;
}

/** Cumulative CPU wait at each reading of a meter, oldest first. */
export type WaitTimeline = ReadonlyArray<{ atMs: number; waitMs: number }>;

/** The counters of one `schedstat` file ("run_ns wait_ns timeslices"), or undefined when it does not read as that. */
export function parseSchedstat(text: string): ThreadTimes | undefined {
  const [run, wait] = text.trim().split(/\s+/).map(Number);
  if (!Number.isFinite(run) || !Number.isFinite(wait) || run! < 0 || wait! < 0) return undefined;
  return { runNs: run!, waitNs: wait! };
}

/**
 * Wall time lost to other work between two readings, on a machine with `cores` CPUs for these threads.
 * - The longest wait of any one thread stands for all: serial work loses its one busy thread's wait, and
 *   threads running in parallel lose about the same share each. A thread that sleeps waits for nothing, so
 *   sleeping is never excused.
 * - A backend that keeps more threads runnable than there are cores waits behind itself even on an idle
 *   machine: with fair shares, each unit of CPU it gets then costs (demand / cores − 1) units of wait. That
 *   part is its own doing and is not counted.
 * - The kernel adds a wait when the thread next gets a CPU, so waits reported in one tick may overlap in
 *   time: the result is capped at the time between the readings.
 */
export function waitBetween(before: LoadReading, after: LoadReading, cores: number): number {
  const dtMs = after.atMs - before.atMs;
  if (!(dtMs > 0)) return 0;
  const deltas: Array<{ run: number; wait: number }> = [];
  for (const [tid, now] of after.threads) {
    const then = before.threads.get(tid);
    if (then) deltas.push({ run: (now.runNs - then.runNs) / 1e6, wait: (now.waitNs - then.waitNs) / 1e6 });
  }
  const demand = deltas.reduce((sum, d) => sum + d.run + d.wait, 0) / dtMs;
  const selfWaitPerRun = Math.max(0, demand / Math.max(1, cores) - 1);
  const longest = deltas.reduce((most, d) => Math.max(most, d.wait - d.run * selfWaitPerRun), 0);
  return Math.min(longest, dtMs);
}

/** Scheduling class and niceness of a thread, from its /proc `stat` line. */
export interface ThreadPriority {
  nice: number;
  /** SCHED_OTHER 0, FIFO 1, RR 2, BATCH 3, IDLE 5, DEADLINE 6. */
  policy: number;
}

/** Nice and policy from a /proc/<pid>/task/<tid>/stat line (fields 19 and 41; the name in parentheses may hold spaces). */
export function parseThreadStat(text: string): ThreadPriority | undefined {
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const nice = Number(fields[16]);
  const policy = Number(fields[38]);
  return Number.isInteger(nice) && Number.isInteger(policy) ? { nice, policy } : undefined;
}

const BACKGROUND_POLICIES = new Set([3, 5]);

/**
 * Whether a thread's wait can hold up what is timed. Background threads (Mesa's shader-disk-cache writer runs
 * at nice 19, SCHED_BATCH) wait for as long as anything else wants the CPU, and nothing waits for them: 57 s of
 * wait in a 170 s Vulkan cold start, for 0.0 s of CPU.
 */
export function holdsUpWork(thread: ThreadPriority, mainThread: ThreadPriority): boolean {
  return !BACKGROUND_POLICIES.has(thread.policy) && thread.nice <= mainThread.nice;
}

/** Cumulative wait at `atMs`, interpolated between readings (the wait is taken as spread evenly over a tick). */
function waitAt(timeline: WaitTimeline, atMs: number): number {
  if (timeline.length === 0) return 0;
  if (atMs <= timeline[0]!.atMs) return timeline[0]!.waitMs;
  for (let i = 1; i < timeline.length; i++) {
    const [a, b] = [timeline[i - 1]!, timeline[i]!];
    if (atMs <= b.atMs) return b.atMs === a.atMs ? b.waitMs : a.waitMs + ((b.waitMs - a.waitMs) * (atMs - a.atMs)) / (b.atMs - a.atMs);
  }
  return timeline.at(-1)!.waitMs;
}

/** CPU wait inside [fromMs, toMs] of a meter's timeline, never more than the window itself. */
export function waitInWindow(timeline: WaitTimeline, fromMs: number, toMs: number): number {
  const wall = Math.max(0, toMs - fromMs);
  return Math.min(wall, Math.max(0, waitAt(timeline, toMs) - waitAt(timeline, fromMs)));
}

/** Slowdowns are recorded up to this: beyond, the backend had a CPU for under 0.1 % of the window (JSON has no Infinity). */
export const MAX_SLOWDOWN = 1000;

/** The load record of a window: its wall time, the wait inside it, and the slowdown that wait means. */
export function machineLoad(wallMs: number, cpuWaitMs: number): MachineLoad {
  const wait = Math.min(Math.max(0, cpuWaitMs), Math.max(0, wallMs));
  const busy = wallMs - wait;
  const slowdown = wallMs <= 0 ? 1 : busy * MAX_SLOWDOWN <= wallMs ? MAX_SLOWDOWN : wallMs / busy;
  return { slowdown: Math.round(slowdown * 1000) / 1000, cpuWaitMs: Math.round(wait * 10) / 10, wallMs: Math.round(wallMs * 10) / 10 };
}

/** A timed figure inside a load window, with the window's share of CPU wait taken out. */
export function withoutWait(ms: number, load: Pick<MachineLoad, 'wallMs' | 'cpuWaitMs'> | undefined): number {
  if (!load || !(load.wallMs > 0) || !(load.cpuWaitMs > 0)) return ms;
  return ms * Math.max(0, 1 - Math.min(1, load.cpuWaitMs / load.wallMs));
}

/** A timed figure against its limit, load taken into account. */
export interface TimedJudgement {
  ok: boolean;
  /** The figure compared with the limit: the measured one less its share of CPU wait. */
  judgedMs: number;
  /** Over the limit as measured, within it once the wait is out: the machine was slow, not the backend. */
  excused: boolean;
  /** "machine was slow: …" when the machine was measurably slowed; absent otherwise. */
  note?: string;
}

/** Below this slowdown a note would only be noise: scheduling on an idle machine costs a few percent. */
export const NOTABLE_SLOWDOWN = 1.1;

const seconds = (ms: number): string => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);

/**
 * Judges a timed figure against its limit on the time the work really had a CPU: the limit itself never
 * moves, and a backend that is slow by its own doing (sleeping, computing more) gets no allowance.
 */
export function judgeTimed(measuredMs: number, limitMs: number, load: MachineLoad | undefined, label = 'measured'): TimedJudgement {
  const judgedMs = withoutWait(measuredMs, load);
  const ok = judgedMs <= limitMs;
  const excused = ok && measuredMs > limitMs;
  if (!load || !(load.slowdown >= NOTABLE_SLOWDOWN)) return { ok, judgedMs, excused };
  const note = `machine was slow: the backend's processes waited ${seconds(load.cpuWaitMs)} of ${seconds(load.wallMs)} for a CPU (${load.slowdown.toFixed(1)}× slowdown); ${label} ${seconds(judgedMs)} without the wait`;
  return { ok, judgedMs, excused, note };
}
