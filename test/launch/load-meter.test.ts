import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { withoutWait } from '../../src/core/machine-load.ts';
import { startLoadMeter } from '../../src/launch/load-meter.ts';
import { REPO } from '../helpers/conform-cli.ts';
import { withCpuHog } from '../helpers/cpu-hog.ts';

const BURNER = join(REPO, 'test', 'fixtures', 'servers', 'cpu-burner.mjs');
// Twice as many spinning threads as cores: whatever else runs here, a busy child gets at most about half a core.
const HOG_THREADS = 2 * availableParallelism();

async function metered(mode: 'burn' | 'sleep', amount: number) {
  const meter = startLoadMeter();
  await execa(process.execPath, [BURNER, mode, String(amount)]);
  return meter.stop();
}

describe.runIf(process.platform === 'linux')('load meter, on real child processes', () => {
  it('measures nothing when conform started no process', () => {
    const meter = startLoadMeter();
    expect(meter.stop()).toBeUndefined();
  });

  it('sees a CPU-bound child wait for a CPU when every core is contended', async () => {
    const load = await withCpuHog(() => metered('burn', 20_000_000), HOG_THREADS);
    expect(load).toBeDefined();
    // With 2n spinning threads on n cores the child is runnable and waiting for about half of its life.
    expect(load!.cpuWaitMs / load!.wallMs).toBeGreaterThan(0.25);
    expect(load!.slowdown).toBeGreaterThan(1.3);
  }, 120_000);

  it('never takes a sleeping child’s sleep for load: what is left without the wait is at least the sleep', async () => {
    const sleepMs = 1500;
    const load = await withCpuHog(() => metered('sleep', sleepMs), HOG_THREADS);
    expect(load).toBeDefined();
    expect(withoutWait(load!.wallMs, load!)).toBeGreaterThanOrEqual(sleepMs);
  }, 60_000);
});
