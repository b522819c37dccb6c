import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { holdsUpWork, judgeTimed, machineLoad, parseSchedstat, parseThreadStat, waitBetween, waitInWindow, withoutWait, type LoadReading } from '../../src/core/machine-load.ts';

const reading = (atMs: number, threads: Array<[number, number, number]>): LoadReading => ({
  atMs,
  threads: new Map(threads.map(([tid, runMs, waitMs]) => [tid, { runNs: runMs * 1e6, waitNs: waitMs * 1e6 }])),
});

describe('parseSchedstat', () => {
  it('reads run and wait nanoseconds from the kernel line', () => {
    expect(parseSchedstat('6578197 14987947 3\n')).toEqual({ runNs: 6578197, waitNs: 14987947 });
  });
  it('refuses what is not a schedstat line', () => {
    for (const text of ['', 'abc def', '-1 5 1', '12']) expect(parseSchedstat(text), text).toBeUndefined();
  });
});

describe('waitBetween', () => {
  it('counts the longest wait of any thread present in both readings', () => {
    const before = reading(0, [[1, 0, 0], [2, 0, 0], [3, 0, 0]]);
    const after = reading(100, [[1, 50, 40], [2, 50, 70], [4, 0, 99]]);
    // Thread 4 started in between: its wait since its own start is unknown here, so it is left out.
    expect(waitBetween(before, after, 4)).toBe(70);
  });
  it('never counts more wait than the time between the readings: waits reported together may overlap', () => {
    expect(waitBetween(reading(0, [[1, 0, 0], [2, 0, 0]]), reading(100, [[1, 5, 300], [2, 5, 250]]), 8)).toBe(100);
  });
  it('is zero for threads that slept or ran without waiting', () => {
    expect(waitBetween(reading(0, [[1, 10, 5]]), reading(1000, [[1, 10, 5]]), 2)).toBe(0);
    expect(waitBetween(reading(0, [[1, 10, 5]]), reading(1000, [[1, 900, 5]]), 2)).toBe(0);
  });
  it('does not count the wait a backend causes itself by keeping more threads runnable than there are cores', () => {
    // Three always-runnable threads on two idle cores: each runs 2/3 of the time and waits 1/3.
    const selfMade = reading(300, [[1, 200, 100], [2, 200, 100], [3, 200, 100]]);
    expect(waitBetween(reading(0, [[1, 0, 0], [2, 0, 0], [3, 0, 0]]), selfMade, 2)).toBeCloseTo(0, 9);
    // The same three beside two spinning threads of someone else: each runs 2/5 of the time. Of its 180 ms
    // of wait, 60 ms (half its 120 ms of run) is its own; the other 120 ms is the other work's.
    const shared = reading(300, [[1, 120, 180], [2, 120, 180], [3, 120, 180]]);
    expect(waitBetween(reading(0, [[1, 0, 0], [2, 0, 0], [3, 0, 0]]), shared, 2)).toBeCloseTo(120, 9);
  });
});

describe('thread priority', () => {
  // Real lines from a conform serve --gpu vulkan process: its main thread, and Mesa's disk-cache writer.
  const main = '24287 (node) S 1 24284 24284 0 -1 4194560 120000 0 0 0 184 0 0 0 20 0 19 0 1000 2000000000 50000 18446744073709551615 1 1 0 0 0 0 0 4096 134234626 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0';
  const disk = '24440 (node:disk$0) S 1 24284 24284 0 -1 4194368 10 0 0 0 1 0 0 0 39 19 19 0 1100 2000000000 50000 18446744073709551615 1 1 0 0 0 0 0 4096 134234626 0 0 0 -1 0 0 3 0 0 0 0 0 0 0 0 0 0 0';
  it('reads nice and policy, names with spaces or parentheses included', () => {
    expect(parseThreadStat(main)).toEqual({ nice: 0, policy: 0 });
    expect(parseThreadStat(disk)).toEqual({ nice: 19, policy: 3 });
    expect(parseThreadStat(main.replace('(node)', '(a) b (c)'))).toEqual({ nice: 0, policy: 0 });
    expect(parseThreadStat('garbage')).toBeUndefined();
  });
  it('leaves out background threads: batch or idle policy, or nicer than the main thread', () => {
    const normal = { nice: 0, policy: 0 };
    expect(holdsUpWork(normal, normal)).toBe(true);
    expect(holdsUpWork(parseThreadStat(disk)!, normal)).toBe(false);
    expect(holdsUpWork({ nice: 0, policy: 5 }, normal)).toBe(false);
    expect(holdsUpWork({ nice: 5, policy: 0 }, normal)).toBe(false);
    expect(holdsUpWork({ nice: 10, policy: 0 }, { nice: 10, policy: 0 })).toBe(true);
  });
});

describe('waitInWindow', () => {
  const timeline = [
    { atMs: 0, waitMs: 0 },
    { atMs: 100, waitMs: 50 },
    { atMs: 200, waitMs: 50 },
    { atMs: 300, waitMs: 150 },
  ];
  it('interpolates inside a tick and adds whole ticks', () => {
    expect(waitInWindow(timeline, 0, 300)).toBe(150);
    expect(waitInWindow(timeline, 50, 250)).toBeCloseTo(25 + 50, 9);
    expect(waitInWindow(timeline, 100, 200)).toBe(0);
  });
  it('never gives more wait than the window is long, nor less than zero', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 0, max: 2000 })), { minLength: 1, maxLength: 20 }), fc.float({ min: -100, max: 30_000, noNaN: true }), fc.float({ min: 0, max: 30_000, noNaN: true }), (steps, from, length) => {
        let at = 0;
        let wait = 0;
        const points = [{ atMs: 0, waitMs: 0 }, ...steps.map(([dt, dw]) => ({ atMs: (at += dt), waitMs: (wait += dw) }))];
        const w = waitInWindow(points, from, from + length);
        return w >= 0 && w <= length + 1e-9;
      }),
    );
  });
});

describe('machineLoad and withoutWait', () => {
  it('turns wall and wait into a slowdown', () => {
    expect(machineLoad(1000, 0).slowdown).toBe(1);
    expect(machineLoad(1000, 500).slowdown).toBe(2);
    expect(machineLoad(1000, 750).slowdown).toBe(4);
  });
  it('caps the wait at the wall time', () => {
    expect(machineLoad(100, 500)).toMatchObject({ cpuWaitMs: 100, slowdown: 1000 });
    expect(JSON.parse(JSON.stringify(machineLoad(100, 100))).slowdown).toBe(1000);
  });
  it('takes the window’s share of wait out of a figure inside it', () => {
    const load = machineLoad(10_000, 6_000);
    expect(withoutWait(10_000, load)).toBeCloseTo(4_000, 9);
    expect(withoutWait(2_000, load)).toBeCloseTo(800, 9);
    expect(withoutWait(2_000, undefined)).toBe(2_000);
  });
});

describe('judgeTimed', () => {
  it('judges wall time as before when nothing was measured or nothing waited', () => {
    expect(judgeTimed(1500, 1000, undefined)).toEqual({ ok: false, judgedMs: 1500, excused: false });
    expect(judgeTimed(900, 1000, machineLoad(900, 0))).toEqual({ ok: true, judgedMs: 900, excused: false });
  });

  it('excuses a figure over its limit only by the time spent waiting for a CPU, and says so', () => {
    // The vulkan cold start: 190.9 s against 120 s, most of it waiting behind other jobs.
    const j = judgeTimed(190_900, 120_000, machineLoad(190_900, 100_000), 'spawn to first answer');
    expect(j.ok).toBe(true);
    expect(j.excused).toBe(true);
    expect(j.judgedMs).toBeCloseTo(90_900, 6);
    expect(j.note).toBe("machine was slow: the backend's processes waited 100.0 s of 190.9 s for a CPU (2.1× slowdown); spawn to first answer 90.9 s without the wait");
  });

  it('still fails a figure that is over its limit without the wait', () => {
    const j = judgeTimed(400_000, 120_000, machineLoad(400_000, 200_000));
    expect(j.ok).toBe(false);
    expect(j.excused).toBe(false);
    expect(j.judgedMs).toBeCloseTo(200_000, 6);
  });

  it('law: more CPU wait never turns a pass into a fail, and no wait changes nothing', () => {
    fc.assert(
      fc.property(fc.float({ min: 1, max: 1e6, noNaN: true }), fc.float({ min: 1, max: 1e6, noNaN: true }), fc.float({ min: 0, max: 1, noNaN: true }), fc.float({ min: 0, max: 1, noNaN: true }), (measured, limit, a, b) => {
        const [less, more] = [Math.min(a, b), Math.max(a, b)];
        const wall = measured;
        const passLess = judgeTimed(measured, limit, machineLoad(wall, wall * less)).ok;
        const passMore = judgeTimed(measured, limit, machineLoad(wall, wall * more)).ok;
        return (!passLess || passMore) && judgeTimed(measured, limit, machineLoad(wall, 0)).ok === measured <= limit;
      }),
    );
  });
});
