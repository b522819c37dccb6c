// Keeping secrets out of samples. A server that echoes a key does so in odd places: the text, an error,
// a tool call's arguments, a header name, and, streamed, spread over many tokens, none of which holds the
// key but which join back into it. Pure: no I/O.

import type { TokenStep } from './types.ts';

/** What a secret, or any piece of one that had to go, is replaced with. */
export const REDACTED = '[REDACTED]';

/**
 * The shortest piece of a secret that counts as the secret cut short: an answer that stops inside the
 * key (max_tokens reached) or starts inside it leaves such a piece at the end or start of its text.
 */
export const MIN_SECRET_PIECE = 3;

// Free text, where an answer cut inside a key leaves a piece of it at an edge: these get the edge rule.
const FREE_TEXT = new Set(['text', 'reasoning', 'message', 'finalText']);

type Range = [start: number, end: number];

/** Where whole secrets occur in a text, plus (with `edges`) a secret's tail at its start or head at its end. */
function secretRanges(text: string, secrets: readonly string[], edges: boolean): Range[] {
  const ranges: Range[] = [];
  for (const secret of secrets) {
    for (let at = text.indexOf(secret); at >= 0; at = text.indexOf(secret, at + 1)) ranges.push([at, at + secret.length]);
    if (!edges) continue;
    for (let n = Math.min(secret.length - 1, text.length); n >= MIN_SECRET_PIECE; n--) {
      if (text.endsWith(secret.slice(0, n))) {
        ranges.push([text.length - n, text.length]);
        break;
      }
    }
    for (let n = Math.min(secret.length - 1, text.length); n >= MIN_SECRET_PIECE; n--) {
      if (text.startsWith(secret.slice(secret.length - n))) {
        ranges.push([0, n]);
        break;
      }
    }
  }
  return mergeRanges(ranges);
}

function mergeRanges(ranges: Range[]): Range[] {
  const merged: Range[] = [];
  for (const range of [...ranges].sort((a, b) => a[0] - b[0])) {
    const last = merged.at(-1);
    if (last && range[0] < last[1]) last[1] = Math.max(last[1], range[1]);
    else merged.push([...range]);
  }
  return merged;
}

function replaceRanges(text: string, ranges: Range[]): string {
  let out = '';
  let from = 0;
  for (const [start, end] of ranges) {
    out += text.slice(from, start) + REDACTED;
    from = end;
  }
  return out + text.slice(from);
}

const isTokenStep = (v: unknown): v is TokenStep => v !== null && typeof v === 'object' && typeof (v as TokenStep).token === 'string' && Array.isArray((v as TokenStep).top);

/**
 * Runs of two or more whole tokens that together are a piece (MIN_SECRET_PIECE characters or more) of a
 * secret: a key the server mangled or interrupted mid-answer still must not be joinable from its tokens.
 * A single token is left alone unless it is an edge piece: short common tokens occur in keys by chance.
 */
function multiTokenPieces(tokens: readonly TokenStep[], secrets: readonly string[]): Range[] {
  const ranges: Range[] = [];
  let start = 0;
  for (let i = 0; i < tokens.length; i++) {
    let piece = tokens[i]!.token;
    let end = start + piece.length;
    let best = -1;
    // Empty tokens join nothing: a token and an empty one beside it are still a single token.
    let nonEmpty = piece === '' ? 0 : 1;
    for (let j = i + 1; j < tokens.length && secrets.some((s) => s.includes(piece)); j++) {
      piece += tokens[j]!.token;
      if (!secrets.some((s) => s.includes(piece))) break;
      end += tokens[j]!.token.length;
      if (tokens[j]!.token !== '') nonEmpty++;
      if (piece.length >= MIN_SECRET_PIECE && nonEmpty >= 2) best = end;
    }
    if (best > start) ranges.push([start, best]);
    start += tokens[i]!.token.length;
  }
  return ranges;
}

/**
 * Redacts a token stream as one text. Every token that overlaps a secret (or a piece of one at either end
 * of the stream) keeps only what lies outside it: the first such token carries the REDACTED mark, the
 * others become empty, and all of them lose their ids (which would spell the key back through the
 * vocabulary) and their alternatives' text. So the tokens still join into the redacted text, and no run
 * of them joins back into a key. An alternative that would complete a secret with the tokens around it
 * is redacted too, wherever it stands.
 */
export function redactTokenStream(tokens: readonly TokenStep[], secrets: readonly string[]): TokenStep[] {
  const live = secrets.filter((s) => s.length > 0);
  if (live.length === 0 || tokens.length === 0) return [...tokens];
  // What is left of a cut token can form a new piece with its neighbour ("sk-" left of
  // "LEAKCHECK-12345sk-", then "LEAK"), so passes repeat until one changes nothing. Each pass only
  // removes text, so a few suffice; the bound is for safety.
  let current: readonly TokenStep[] = tokens;
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const next = redactionPass(current, live);
    if (next.every((step, i) => step === current[i])) return next;
    current = next;
  }
  return [...current];
}

const MAX_PASSES = 8;

function redactionPass(tokens: readonly TokenStep[], live: readonly string[]): TokenStep[] {
  const joined = tokens.map((t) => t.token).join('');
  const ranges = mergeRanges([...secretRanges(joined, live, true), ...multiTokenPieces(tokens, live)]);
  const reach = Math.max(...live.map((s) => s.length)) - 1;
  const out: TokenStep[] = [];
  let start = 0;
  for (const step of tokens) {
    const end = start + step.token.length;
    const overlapping = ranges.filter(([a, b]) => a < end && b > start);
    let next: TokenStep = step;
    if (overlapping.length) {
      let token = '';
      let at = start;
      for (const [a, b] of overlapping) {
        if (a > at) token += joined.slice(at, a);
        if (a >= start) token += REDACTED; // the mark goes where the secret begins
        at = Math.max(at, b);
      }
      if (at < end) token += joined.slice(at, end);
      const { id: _id, ...rest } = step;
      next = { ...rest, token, top: step.top.map(({ id: _alt, ...alt }) => ({ ...alt, token: REDACTED })) };
    } else if (step.top.length) {
      // Could this alternative, between the tokens actually chosen around it, spell a secret?
      const before = joined.slice(Math.max(0, start - reach), start);
      const after = joined.slice(end, end + reach);
      const spells = (alt: string) => secretRanges(`${before}${alt}${after}`, live, false).some(([a, b]) => a < before.length + alt.length && b > before.length);
      if (step.top.some((alt) => spells(alt.token)))
        next = { ...step, top: step.top.map(({ id, ...alt }) => (spells(alt.token) ? { ...alt, token: REDACTED } : id === undefined ? alt : { ...alt, id })) };
    }
    out.push(next);
    start = end;
  }
  return out;
}

/** Replaces every secret in a text (and, for free text, a piece of one at either end) with REDACTED. */
export function redactText(text: string, secrets: readonly string[], edges = false): string {
  const ranges = secretRanges(text, secrets, edges);
  return ranges.length ? replaceRanges(text, ranges) : text;
}

/**
 * Replaces every occurrence of each secret in every string of a value, however deep, object keys
 * included: servers echo keys in odd places. Token lists are redacted as one joined stream
 * (redactTokenStream), and a text that is its tokens joined follows them; free-text fields (text, reasoning, message, finalText) also lose a piece of at
 * least MIN_SECRET_PIECE characters of a secret at their start or end; a repeat variant whose text held a
 * secret loses its token ids.
 */
export function redactSecrets<T>(value: T, secrets: readonly string[]): T {
  const live = secrets.filter((s) => s.length > 0);
  if (live.length === 0) return value;
  // What holds no secret is handed back as it was, not copied: with a key set, copying every sample
  // twice (runner and journal) cost 0.15 ms a case, 30 % of a 10,000-case run's CPU.
  const sameItems = (before: readonly unknown[], after: unknown[]): unknown[] => (after.every((item, i) => item === before[i]) ? (before as unknown[]) : after);
  const walk = (v: unknown, key: string): unknown => {
    if (typeof v === 'string') return redactText(v, live, FREE_TEXT.has(key));
    if (Array.isArray(v)) return sameItems(v, v.length > 0 && v.every(isTokenStep) ? redactTokenStream(v, live).map((step) => walk(step, '')) : v.map((item) => walk(item, '')));
    if (v !== null && typeof v === 'object') {
      const before = Object.entries(v);
      const entries = before.map(([k, x]) => [redactText(k, live), walk(x, k)] as const);
      if (entries.every(([k, x], i) => k === before[i]![0] && x === before[i]![1])) return v;
      const record = Object.fromEntries(entries);
      const original = (v as Record<string, unknown>).text;
      const tokens = (v as Record<string, unknown>).tokens;
      // A text that is its tokens joined loses exactly what they lost, so the two still agree.
      if (typeof original === 'string' && Array.isArray(tokens) && tokens.length > 0 && tokens.every(isTokenStep) && tokens.map((t) => t.token).join('') === original)
        record.text = (record.tokens as TokenStep[]).map((t) => t.token).join('');
      if (Array.isArray(record.tokenIds) && typeof original === 'string' && record.text !== original) delete record.tokenIds;
      return record;
    }
    return v;
  };
  return walk(value, '') as T;
}

/** Redacts text that arrives in chunks, a secret split across two of them included. */
export interface StreamRedactor {
  /** Takes the next chunk; returns what can be written now, holding back a tail that may start a secret. */
  push(chunk: string): string;
  /** The held-back tail, redacted; a piece of a secret the stream ended inside goes too. */
  end(): string;
}

/** A StreamRedactor for these secrets: what it returns, concatenated, is the whole text redacted. */
export function createStreamRedactor(secrets: readonly string[]): StreamRedactor {
  const live = secrets.filter((s) => s.length > 0);
  let held = '';
  return {
    push(chunk) {
      if (live.length === 0) return chunk;
      const text = redactText(held + chunk, live);
      // Hold back the longest tail that is the start of a secret: the next chunk may complete it.
      let hold = 0;
      for (const secret of live)
        for (let n = Math.min(secret.length - 1, text.length); n > hold; n--)
          if (text.endsWith(secret.slice(0, n))) {
            hold = n;
            break;
          }
      held = text.slice(text.length - hold);
      return text.slice(0, text.length - hold);
    },
    end() {
      const rest = redactText(held, live, true);
      held = '';
      return rest;
    },
  };
}
