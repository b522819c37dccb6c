// The text must be what the tokens spell. Cross-backend checks compare token ids and logprobs, never the
// text, so a server that adds words to the content (or loses some) while its token list stays intact passes
// all of them; this check closes that gap on every sample that has both.
//
// What a healthy server may do, and this check allows:
// - byte-fallback tokens hold part of a UTF-8 character: the token's `bytes` (llama.cpp) are joined before
//   decoding; without bytes, a token shown as U+FFFD stands for the one to four bytes it held;
// - a stop string: the text ends before it, while the tokens may still hold it (llama-server streamed), or
//   lack as many trailing tokens as the stop string tokenizes to (llama-server, not streamed);
// - reasoning: the tokens spell the reasoning, then the content, with the template's tags around them;
// - tool calls: the tokens spell the call in the template's format, not `text`; each call's name and
//   argument keys and values must be there;
// - an end-of-generation token spells nothing; whitespace at the very start or end may be trimmed.

import type { Sample, TokenStep, Verdict } from '../core/types.ts';
import type { Comparator } from './comparator.ts';
import { showToken } from './tokens.ts';

const CHECK = 'text-matches-tokens';
const REPLACEMENT = '\uFFFD';
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

/** What the tokens spell: their bytes where every token gave them, joined then decoded; else their strings. */
export function spell(tokens: TokenStep[]): string {
  if (tokens.every((t) => Array.isArray(t.bytes))) {
    const bytes = tokens.flatMap((t) => t.bytes!);
    return decoder.decode(Uint8Array.from(bytes));
  }
  return tokens.map((t) => t.token).join('');
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A matcher for a spelled string in which each run of U+FFFD stands for one to as many characters as the
 * run is long (a character split over byte tokens shows one U+FFFD per byte when the server gives no bytes).
 */
function matcher(spelled: string, anchorEnd: boolean): RegExp {
  const parts = spelled.split(/(\uFFFD+)/u).map((part) => (part.startsWith(REPLACEMENT) ? `[^]{1,${part.length * 2}}` : escapeRegExp(part)));
  return new RegExp(`^${parts.join('')}${anchorEnd ? '$' : ''}`, 'u');
}

/** True when the spelled string is exactly the target, U+FFFD runs standing for what they held. */
function spellsExactly(spelled: string, target: string): boolean {
  return spelled.includes(REPLACEMENT) ? matcher(spelled, true).test(target) : spelled === target;
}

const trim = (s: string) => s.replace(/^\s+|\s+$/g, '');

/** Where the spelled tokens and the text first part, as a short message. */
function firstDifference(spelled: string, text: string): string {
  let i = 0;
  while (i < spelled.length && i < text.length && spelled[i] === text[i]) i++;
  const around = (s: string) => showToken(s.slice(Math.max(0, i - 12), i + 28));
  return `at character ${i}: tokens spell ${around(spelled)}, text is ${around(text)}`;
}

/** Within the stop string's reach: one side is a prefix of the other, the rest no longer than a stop string and a few tokens. */
function stopExplains(spelled: string, text: string, stops: string[]): boolean {
  if (stops.length === 0) return false;
  const longest = Math.max(...stops.map((s) => s.length));
  if (spelled.startsWith(text)) {
    const rest = spelled.slice(text.length);
    return stops.some((s) => rest.startsWith(s)) || (rest.length <= longest && stops.some((s) => s.startsWith(rest)));
  }
  // Not streamed, llama-server drops as many trailing tokens as the stop string tokenizes to, which may be
  // more than the tokens that spelled it: the text then runs on a little past what the tokens spell.
  return text.startsWith(spelled) && text.length - spelled.length <= 2 * longest + 32;
}

/** The pieces of the answer the tokens must spell, for a tool-call sample. */
function callPieces(sample: Sample): string[] {
  const pieces: string[] = [];
  const leaves = (value: unknown): void => {
    if (value === null || typeof value !== 'object') pieces.push(typeof value === 'string' ? value : JSON.stringify(value));
    else if (Array.isArray(value)) value.forEach(leaves);
    else
      for (const [key, inner] of Object.entries(value)) {
        pieces.push(key);
        leaves(inner);
      }
  };
  for (const call of sample.toolCalls) {
    pieces.push(call.name);
    try {
      leaves(JSON.parse(call.arguments));
    } catch {
      pieces.push(call.arguments);
    }
  }
  return pieces.filter((p) => p !== '');
}

function verdict(status: 'pass' | 'fail', message: string, spelled: string, details: Record<string, unknown> = {}): Verdict {
  return { check: CHECK, status, measured: status === 'pass' ? 'matches' : 'differs', threshold: 'text spelled by the tokens', message, details: { spelled: spelled.slice(0, 400), ...details } };
}

/** Reasoning and content, in that order, with nothing but template tags and whitespace around and between them. */
function spellsReasoningThenText(spelled: string, reasoning: string, text: string): boolean {
  const r = spelled.indexOf(reasoning);
  if (r < 0) return false;
  const t = spelled.indexOf(text, r + reasoning.length);
  if (t < 0) return false;
  const leftover = spelled.slice(0, r) + spelled.slice(r + reasoning.length, t) + spelled.slice(t + text.length);
  return trim(leftover.replace(/<\/?[A-Za-z_|][^<>\s]{0,40}>/g, '')) === '';
}

/** The text, the reasoning and the tool calls of a sample against what its tokens spell. Needs no reference. */
export const textMatchesTokens: Comparator = {
  kind: CHECK,
  needsReference: false,
  compare({ sample, testCase }): Verdict {
    if (sample.tokens.length === 0) return { check: CHECK, status: 'skip', message: 'no logprobs, so no tokens to spell the text with' };
    const spelled = spell(sample.tokens);
    const text = sample.text;
    const reasoning = sample.reasoning ?? '';
    const n = sample.tokens.length;

    if (sample.toolCalls.length > 0) {
      const missing = [...callPieces(sample), ...(text !== '' ? [text] : []), ...(reasoning !== '' ? [reasoning] : [])].filter((p) => !spelled.includes(p));
      if (missing.length > 0)
        return verdict('fail', `the ${n} tokens do not spell the answer: ${missing.slice(0, 3).map(showToken).join(', ')} missing from ${showToken(spelled.slice(0, 80))}`, spelled, { missing });
      return verdict('pass', `the ${n} tokens spell the ${sample.toolCalls.length} tool call(s)${text ? ' and the content' : ''}`, spelled);
    }
    if (reasoning !== '') {
      if (spellsReasoningThenText(spelled, reasoning, text)) return verdict('pass', `the ${n} tokens spell the reasoning, then the content`, spelled);
      return verdict('fail', `the ${n} tokens do not spell reasoning then content: reasoning ${showToken(reasoning.slice(0, 40))}, content ${showToken(text.slice(0, 40))}, tokens ${showToken(spelled.slice(0, 80))}`, spelled);
    }
    if (spellsExactly(spelled, text) || spellsExactly(trim(spelled), trim(text))) return verdict('pass', `the ${n} tokens spell the text exactly`, spelled);
    if (sample.finishReason === 'stop' && !spelled.includes(REPLACEMENT) && stopExplains(spelled, text, testCase.params.stop ?? []))
      return verdict('pass', `the ${n} tokens spell the text up to the stop string`, spelled);
    return verdict('fail', `the text is not what its ${n} tokens spell, ${firstDifference(spelled, text)}`, spelled, { text: text.slice(0, 400) });
  },
};
