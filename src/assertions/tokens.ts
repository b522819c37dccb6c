import type { TokenStep, TopLogprob } from '../core/types.ts';

/** Token ids are the truth when both sides have them; strings are the fallback for servers that omit ids. */
export function sameToken(a: { token: string; id?: number }, b: { token: string; id?: number }): boolean {
  return a.id !== undefined && b.id !== undefined ? a.id === b.id : a.token === b.token;
}

/** The entry for `token` among the first k alternatives of a step, if it is there. */
export function findInTopK(step: TokenStep, token: { token: string; id?: number }, k: number): TopLogprob | undefined {
  return step.top.slice(0, k).find((alt) => sameToken(alt, token));
}

/** Index of the first position where the two greedy sequences part, or -1 if one is a prefix of the other. */
export function firstDivergence(a: TokenStep[], b: TokenStep[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (!sameToken(a[i]!, b[i]!)) return i;
  return -1;
}

/** Quotes a token so whitespace and control characters stay visible in a one-line message. */
export function showToken(token: string): string {
  return JSON.stringify(token);
}
