import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { execa, type ResultPromise } from 'execa';
import { CONFORM_BIN } from '../config/package-files.ts';
import { createStreamRedactor } from '../core/redact.ts';
import type { BackendConfig, BackendRun } from '../core/types.ts';
import { freePort } from './free-port.ts';
import { startLoadMeter } from './load-meter.ts';
import { logTail } from './log-tail.ts';
import { waitUntilAnswering } from './wait-until-answering.ts';

/** Exit code a launched server uses to say "this device does not exist here" (sysexits EX_UNAVAILABLE). */
export const EXIT_UNAVAILABLE = 69;

export interface LaunchOptions {
  modelPath: string;
  logFile: string;
  env: NodeJS.ProcessEnv;
  /** The server's health path when its preset knows it; /health then /v1/models otherwise. */
  healthPath?: string;
  /**
   * Secrets the process may print (API keys): they never reach its log. The key named by the backend's
   * apiKeyEnv is always one of them. @default []
   */
  secrets?: readonly string[];
  signal?: AbortSignal;
  /** Called with a short status line while the backend comes up (a cold Vulkan start takes tens of seconds). */
  onProgress?: (line: string) => void;
}

export interface LaunchedBackend {
  baseUrl: string;
  coldStart: NonNullable<BackendRun['coldStart']>;
  isAlive(): boolean;
  /** How the process ended, once it has: "exit code 1" or "signal SIGSEGV". */
  exitDescription(): string | undefined;
  logTail(): string;
  stop(): Promise<void>;
}

export type LaunchOutcome =
  | { state: 'ready'; backend: LaunchedBackend }
  | { state: 'unavailable' | 'crashed'; reason: string };

/** How long the log may still drain after the process exits; a grandchild holding the pipe must not hang the run. */
const LOG_DRAIN_MS = 2_000;

/**
 * Copies a process's stdout and stderr into its log through a redactor each: a key the server prints,
 * even split across two writes, reaches the file as [REDACTED]. Resolves once both streams have ended.
 */
function redactedLog(file: string, streams: Array<Readable | null | undefined>, secrets: readonly string[]): Promise<void> {
  const fd = openSync(file, 'a');
  const ended = streams.map(
    (stream) =>
      new Promise<void>((resolve) => {
        if (!stream) return resolve();
        const redactor = createStreamRedactor(secrets);
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => writeSync(fd, redactor.push(chunk)));
        const finish = () => {
          writeSync(fd, redactor.end());
          resolve();
        };
        stream.once('end', finish);
        stream.once('error', finish);
      }),
  );
  return Promise.all(ended).then(() => closeSync(fd));
}

function substitute(args: string[], values: Record<string, string>): string[] {
  return args.map((arg) => arg.replace(/\{(\w+)\}/g, (whole, key: string) => values[key] ?? whole));
}

/**
 * Starts a backend's server and waits until it really answers: health first, then a one-token
 * request, because a health endpoint that says OK before warm-up is a known trap.
 */
export async function launchBackend(config: BackendConfig, options: LaunchOptions): Promise<LaunchOutcome> {
  const launch = config.launch!;
  const port = await freePort();
  const args = substitute(launch.args, { port: String(port), model: options.modelPath });
  const [file, argv] = launch.command === 'conform' ? [process.execPath, [CONFORM_BIN, ...args]] : [launch.command, args];
  mkdirSync(dirname(options.logFile), { recursive: true });
  const spawnedAt = performance.now();
  const child: ResultPromise = execa(file, argv, {
    env: { ...options.env, ...launch.env },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
    reject: false,
    cleanup: true,
    // SIGTERM first so the server can free its device; SIGKILL if it has not gone in 5 s.
    forceKillAfterDelay: 5_000,
  });
  // The key this backend is called with is in the child's environment: whatever the server prints of it stays out.
  const keyFromEnv = config.apiKeyEnv ? options.env[config.apiKeyEnv] : undefined;
  const logged = redactedLog(options.logFile, [child.stdout, child.stderr], [...(options.secrets ?? []), ...(keyFromEnv ? [keyFromEnv] : [])]);
  let exit: { code?: number; signal?: string } | undefined;
  // Exited means the log is complete too, so a crash message can quote its last lines.
  const exited = child.then(async (result) => {
    await Promise.race([logged, new Promise((resolve) => setTimeout(resolve, LOG_DRAIN_MS).unref())]);
    return (exit = { code: result.exitCode, signal: result.signal });
  });
  const stop = async () => {
    if (exit) return;
    child.kill('SIGTERM');
    await exited;
  };
  const baseUrl = `http://127.0.0.1:${port}/v1`;
  const meter = child.pid !== undefined ? startLoadMeter({ rootPid: child.pid, includeRoot: true }) : undefined;
  const ready = await waitUntilAnswering({
    baseUrl,
    model: config.model,
    healthPath: options.healthPath,
    timeoutMs: launch.readyTimeoutMs ?? 300_000,
    exited: exited.then(() => exit!),
    signal: options.signal,
    onProgress: options.onProgress,
    cpuWaitMs: meter?.waitSoFar,
    apiKey: keyFromEnv,
  });
  meter?.stop();
  if (ready.state !== 'ready') {
    await stop();
    const tail = logTail(options.logFile, 3);
    if (exit?.code === EXIT_UNAVAILABLE) return { state: 'unavailable', reason: lastLine(tail) || 'the backend reported its device unavailable' };
    return { state: 'crashed', reason: `${ready.reason}${tail ? `; log tail: ${tail.replace(/\n/g, ' | ')}` : ''}` };
  }
  return {
    state: 'ready',
    backend: {
      baseUrl,
      coldStart: {
        spawnToHealthyMs: ready.healthyAt - spawnedAt,
        healthyToFirstAnswerMs: ready.answeredAt - ready.healthyAt,
        firstAnswerTtftMs: ready.firstAnswerTtftMs,
      },
      isAlive: () => exit === undefined,
      exitDescription: () => (exit ? (exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`) : undefined),
      logTail: () => logTail(options.logFile),
      stop,
    },
  };
}

function lastLine(text: string): string {
  return text.split('\n').filter(Boolean).pop()?.replace(/^conform serve \[\w+\]: /, '') ?? '';
}
