// Starts bench/zero-delay-server.ts as a child process and talks to it over IPC: its port, and what it
// counted (requests answered, first arrival, last end), so that every client is timed by the same clock.

import { fork, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ZeroDelayReady, ZeroDelayStats } from './zero-delay-server.ts';

const here = dirname(fileURLToPath(import.meta.url));

export interface ZeroDelayServer {
  port: number;
  /** The OpenAI base URL, with /v1. */
  baseUrl: string;
  /** What the server counted since the last reset; `reset` starts a new count after answering. */
  stats(reset?: boolean): Promise<ZeroDelayStats>;
  stop(): void;
}

/** The next message of the given type from the child, or a rejection if it exits first. */
function next<T extends { type: string }>(proc: ChildProcess, type: T['type']): Promise<T> {
  return new Promise((resolveMessage, reject) => {
    const onExit = (code: number | null) => reject(new Error(`zero-delay server exited (${code}) before answering`));
    const onMessage = (message: { type?: string }) => {
      if (message.type !== type) return;
      proc.off('exit', onExit).off('message', onMessage);
      resolveMessage(message as T);
    };
    proc.on('exit', onExit).on('message', onMessage);
  });
}

/** Forks the zero-delay server and waits until it listens. */
export async function startZeroDelayServer(): Promise<ZeroDelayServer> {
  const proc = fork(resolve(here, 'zero-delay-server.ts'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { port } = await next<ZeroDelayReady>(proc, 'ready');
  return {
    port,
    baseUrl: `http://127.0.0.1:${port}/v1`,
    stats(reset = false) {
      const answer = next<ZeroDelayStats>(proc, 'stats');
      proc.send({ type: 'stats', reset });
      return answer;
    },
    stop: () => void proc.kill(),
  };
}

/** Requests per second over the server's sending phase: from the first arrival to the last answer. */
export function serverRate(stats: ZeroDelayStats): number | null {
  if (stats.requests < 2 || stats.firstArrivalMs === null || stats.lastEndMs === null || stats.lastEndMs <= stats.firstArrivalMs) return null;
  return stats.requests / ((stats.lastEndMs - stats.firstArrivalMs) / 1000);
}
