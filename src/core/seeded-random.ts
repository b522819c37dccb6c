// A small deterministic PRNG. Fault decisions, fault parameters and retry jitter all draw from it,
// so a failing agent run can be replayed exactly from `AgentSpec.seed` instead of being a flake.
//
// The generator is a Weyl sequence (a counter stepped by an odd constant) passed through a 32-bit
// avalanche mix: cheap, no state beyond one integer, and good enough to decide "does this fault apply".
// It is not for cryptography.

const GOLDEN_GAMMA = 0x9e3779b9;

// Spreads every input bit over every output bit, so neighbouring seeds give unrelated streams.
function avalanche(value: number): number {
  let z = value >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

// Folds any number (negative, fractional, beyond 32 bits) or label into one 32-bit state, the same on every machine.
function foldSeed(parts: ReadonlyArray<number | string>): number {
  let state = 0x2545f491;
  for (const part of parts) {
    if (typeof part === 'number') {
      const whole = Number.isFinite(part) ? Math.trunc(part) : 0;
      const low = whole >>> 0;
      const high = Math.floor(whole / 0x1_0000_0000) >>> 0;
      state = avalanche(state ^ avalanche(low + GOLDEN_GAMMA));
      state = avalanche(state ^ avalanche(high + 2 * GOLDEN_GAMMA));
    } else {
      for (let i = 0; i < part.length; i++) state = avalanche(state ^ (part.charCodeAt(i) + GOLDEN_GAMMA));
      state = avalanche(state ^ part.length);
    }
  }
  return state;
}

/** A reproducible stream of random numbers. */
export interface SeededRandom {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max], both included. */
  int(min: number, max: number): number;
  /** True with probability `p` (clamped to [0, 1]); always draws, so the stream does not depend on `p`. */
  chance(p: number): boolean;
  /** An independent stream named by `labels`; forking does not advance this one, so the order of forks does not matter. */
  fork(...labels: Array<number | string>): SeededRandom;
}

/** Creates a PRNG whose whole output is fixed by `seed` (and optional labels naming a sub-stream). */
export function createSeededRandom(seed: number, ...labels: Array<number | string>): SeededRandom {
  const origin = [seed, ...labels];
  let state = foldSeed(origin);
  const next = (): number => {
    state = (state + GOLDEN_GAMMA) >>> 0;
    return avalanche(state) / 0x1_0000_0000;
  };
  return {
    next,
    int(min, max) {
      const lo = Math.ceil(Math.min(min, max));
      const hi = Math.floor(Math.max(min, max));
      return lo + Math.floor(next() * (hi - lo + 1));
    },
    chance(p) {
      const draw = next();
      return draw < Math.min(1, Math.max(0, p));
    },
    fork(...more) {
      return createSeededRandom(seed, ...labels, ...more);
    },
  };
}
