// The real PowerIo: files through node:fs, tools through node:child_process, on the clock the request log
// uses. The only file of the energy seam that touches the machine.

import { execFile, spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import type { PowerIo, PowerProcess } from './power-source.ts';

/** Epoch milliseconds from the monotonic clock: what every telemetry timestamp is taken with. */
export const telemetryNow = (): number => performance.timeOrigin + performance.now();

const STDERR_KEPT = 2_000;

export interface NodePowerIoOptions {
  /** The environment tools run with (PATH finds them); the CLI hands it down. */
  env: NodeJS.ProcessEnv;
  /** @default '/sys/class/powercap' */
  powercapRoot?: string;
}

/** A PowerIo over this machine. */
export function createNodePowerIo(options: NodePowerIoOptions): PowerIo {
  const { env } = options;
  return {
    powercapRoot: options.powercapRoot ?? '/sys/class/powercap',
    readFile: (path) => readFile(path, 'utf8'),
    readDir: (path) => readdir(path),
    now: telemetryNow,
    async sleep(ms, signal) {
      await delay(ms, undefined, { signal, ref: false }).catch(() => undefined);
    },
    run(command, args, timeoutMs) {
      return new Promise((resolve, reject) => {
        execFile(command, args, { env, timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
          const code = (error as NodeJS.ErrnoException | null)?.code;
          if (code === 'ENOENT' || code === 'EACCES') return reject(error);
          const exitCode = error ? (typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : null) : 0;
          resolve({ exitCode, stdout, stderr });
        });
      });
    },
    stream(command, args, onLine): PowerProcess {
      const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      let buffered = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        buffered += chunk;
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) onLine(line);
      });
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        if (stderr.length < STDERR_KEPT) stderr += chunk;
      });
      const exited = new Promise<{ exitCode: number | null; stderr: string; errorCode?: string }>((resolve) => {
        child.once('error', (error: NodeJS.ErrnoException) => resolve({ exitCode: null, stderr, ...(error.code && { errorCode: error.code }) }));
        child.once('close', (code) => resolve({ exitCode: code, stderr }));
      });
      return {
        exited,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGTERM');
            // A tool that ignores SIGTERM must not keep the run waiting.
            const killer = setTimeout(() => child.kill('SIGKILL'), 2_000);
            await exited;
            clearTimeout(killer);
          }
          await exited;
          if (buffered) onLine(buffered);
          buffered = '';
        },
      };
    },
  };
}
