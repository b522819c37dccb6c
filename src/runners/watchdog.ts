// One request's limits as it moves through its phases, so that a timeout names the phase that stalled:
// no headers, headers but no first token, silence after the first token, or the whole request too long.

import { performance } from 'node:perf_hooks';

export type PhaseLimit = 'first-byte' | 'first-token' | 'idle' | 'total';

export interface WatchdogLimits {
  firstByteMs: number;
  firstTokenMs: number;
  idleMs: number;
  totalMs: number;
}

export interface Watchdog {
  /** The limit that ran out, once one has; the request was aborted then. */
  readonly fired: PhaseLimit | undefined;
  /** Whether any body bytes arrived after the headers. */
  readonly bodyStarted: boolean;
  headers(): void;
  /** The first token of a stream, or the first bytes of a whole body: from here on only silence counts. */
  content(): void;
  /** Any read of the body, keep-alive comments included. */
  read(): void;
  dispose(): void;
}

/**
 * Starts the clock at sending. `streamed` requests wait for their first token against an absolute deadline
 * (reads of role chunks and keep-alives before it do not extend it); everything after it, and every body of
 * an unstreamed answer, may go silent for at most `idleMs` between reads.
 */
export function startWatchdog(limits: WatchdogLimits, streamed: boolean, abort: (limit: PhaseLimit) => void): Watchdog {
  const t0 = performance.now();
  const totalAt = t0 + limits.totalMs;
  let fired: PhaseLimit | undefined;
  let phase: 'first-byte' | 'first-token' | 'idle' = 'first-byte';
  let lastRead = t0;
  let bodyStarted = false;
  let timer: NodeJS.Timeout | undefined;
  const fire = (limit: PhaseLimit): void => {
    if (fired) return;
    fired = limit;
    clearTimeout(timer);
    clearTimeout(totalTimer);
    abort(limit);
  };
  const totalTimer = setTimeout(() => fire('total'), limits.totalMs);

  // A phase deadline at or past the whole-request one is left to it, so the message names the tighter limit.
  function schedule(at: number): void {
    clearTimeout(timer);
    timer = undefined;
    if (fired || at >= totalAt) return;
    timer = setTimeout(check, Math.max(0, at - performance.now()));
  }

  function check(): void {
    if (phase !== 'idle') return fire(phase);
    // Reads only move a timestamp; the timer looks at it when it wakes, rather than being reset per chunk.
    const quietUntil = lastRead + limits.idleMs;
    if (performance.now() >= quietUntil) return fire('idle');
    schedule(quietUntil);
  }

  function enterIdle(): void {
    phase = 'idle';
    lastRead = performance.now();
    schedule(lastRead + limits.idleMs);
  }

  schedule(t0 + limits.firstByteMs);
  return {
    get fired() {
      return fired;
    },
    get bodyStarted() {
      return bodyStarted;
    },
    headers() {
      if (phase !== 'first-byte') return;
      if (streamed) {
        phase = 'first-token';
        schedule(t0 + limits.firstTokenMs);
      } else enterIdle();
    },
    content() {
      if (phase === 'first-token') enterIdle();
    },
    read() {
      bodyStarted = true;
      lastRead = performance.now();
    },
    dispose() {
      clearTimeout(timer);
      clearTimeout(totalTimer);
    },
  };
}
