// Load for tests that must give the same verdicts on a busy machine: worker threads that spin until stopped.
// Threads of the test's own process, not child processes, so that conform's load meter (which reads its own
// main thread and the processes it started) never counts the hog as part of the work it times.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

export interface CpuHog {
  threads: number;
  stop(): Promise<void>;
}

// Pure arithmetic: it takes CPU time from everyone else without touching memory or the disk.
const SPIN = 'let x = 0; for (;;) { for (let i = 0; i < 1e7; i++) x = (x * 31 + i) | 0; }';

/** Starts `threads` busy threads (default: one per core, so every core is contended) until `stop()`. */
export async function startCpuHog(threads = availableParallelism()): Promise<CpuHog> {
  const workers = Array.from({ length: threads }, () => new Worker(SPIN, { eval: true }));
  await Promise.all(workers.map((w) => new Promise((resolve, reject) => w.once('online', resolve).once('error', reject))));
  return {
    threads,
    async stop() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

/** Runs `work` with a hog beside it, and always stops the hog. */
export async function withCpuHog<T>(work: () => Promise<T>, threads?: number): Promise<T> {
  const hog = await startCpuHog(threads);
  try {
    return await work();
  } finally {
    await hog.stop();
  }
}
