// Text and verdict helpers shared by the HTML and Markdown reporters.

import type { BackendRun, CaseResult, Counts, GoldenFile, RunSummary, Sample, Status, TokenStep, ToolCall, Verdict } from '../../core/types.ts';


const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const hex4 = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** Longest output text, reasoning or argument string a report shows of one case (characters). */
export const MAX_SHOWN_TEXT = 64 * 1024;
/** Longest verdict message, error or reason a report shows. */
export const MAX_SHOWN_MESSAGE = 2_000;
/** Longest single token or name shown. */
export const MAX_SHOWN_TOKEN = 200;

/**
 * The first `max` characters of a text (never half a surrogate pair), saying how much was left out.
 * Reports show bounded excerpts; samples.jsonl keeps every character.
 */
export function clip(text: string, max: number, note = true): string {
  if (text.length <= max) return text;
  let end = max;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…${note ? ` (${(text.length - end).toLocaleString('en-US')} more characters; all of them are in samples.jsonl)` : ''}`;
}

/** Model text for display: line breaks and tabs kept, every other control character (and lone surrogate) shown as \uXXXX. */
export function visibleText(text: string): string {
  return text.replace(CONTROL, hex4);
}

/** One token for display: whitespace made visible, so " the" and "the" are told apart in a diff. */
export function visibleToken(token: string): string {
  if (token === '') return '∅';
  return visibleText(token).replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t').replace(/ /g, '␣');
}

export function formatMs(ms: number | undefined | null): string {
  if (ms === undefined || ms === null || !Number.isFinite(ms)) return '—';
  if (ms >= 1000) return `${(ms / 1000).toFixed(ms >= 10_000 ? 1 : 2)} s`;
  return `${ms.toFixed(ms < 10 ? 2 : ms < 100 ? 1 : 0)} ms`;
}

export function formatValue(value: unknown): string {
  if (value === undefined || value === null) return '—';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : Math.abs(value) >= 100 ? value.toFixed(1) : value.toFixed(4);
  return String(value);
}

export function formatLogprob(logprob: number | undefined): string {
  if (logprob === undefined || !Number.isFinite(logprob)) return '—';
  if (logprob <= -1000) return '−∞';
  return logprob.toFixed(3);
}

export function formatProb(logprob: number | undefined): string {
  if (logprob === undefined || !Number.isFinite(logprob) || logprob <= -1000) return '0%';
  const p = Math.exp(logprob) * 100;
  return p >= 10 ? `${p.toFixed(1)}%` : p >= 0.01 ? `${p.toFixed(2)}%` : '<0.01%';
}

// ---------------------------------------------------------------------------------------------------------
// Divergences, read back from the greedy-divergence verdict's details.

export type DivergenceKind = 'near-tie' | 'confident flip' | 'length' | 'logprob drift';

export interface DivergenceInfo {
  index: number;
  kind: DivergenceKind;
  verdict: Verdict;
  golden?: TokenStep;
  got?: TokenStep;
  gap?: number;
  prefixLogprobDelta?: number;
}

function isStep(value: unknown): value is TokenStep {
  return typeof value === 'object' && value !== null && typeof (value as TokenStep).token === 'string' && Array.isArray((value as TokenStep).top);
}

/** The first greedy divergence of a case, classified; undefined when the backend agreed with golden all the way. */
export function divergenceOf(result: CaseResult): DivergenceInfo | undefined {
  const verdict = result.verdicts.find((v) => v.check === 'greedy-divergence');
  const details = verdict?.details;
  const index = details?.divergenceIndex;
  if (!verdict || !details || typeof index !== 'number' || index < 0) return undefined;
  const golden = isStep(details.golden) ? details.golden : undefined;
  const got = isStep(details.got) ? details.got : undefined;
  const kind: DivergenceKind = golden && got ? (verdict.status === 'pass' ? 'near-tie' : 'confident flip') : verdict.threshold === 'equal length' ? 'length' : 'logprob drift';
  return {
    index,
    kind,
    verdict,
    golden,
    got,
    gap: typeof details.gap === 'number' ? details.gap : undefined,
    prefixLogprobDelta: typeof details.prefixLogprobDelta === 'number' ? details.prefixLogprobDelta : undefined,
  };
}

/** The verdict that decided a case's status: the first with that status, else the most telling one. */
export function decisiveVerdict(result: CaseResult): Verdict | undefined {
  return result.verdicts.find((v) => v.status === result.status)
    ?? result.verdicts.find((v) => v.check === 'greedy-divergence')
    ?? result.verdicts[0];
}

/** "Partial run: 12 of 30 planned cases have a result (interrupted …)", or '' for a finished run. */
export function partialNote(summary: RunSummary): string {
  const p = summary.partial;
  return p ? `Partial run: ${p.recorded} of ${p.planned} planned cases have a result (${p.reason}); finish it with "conform run --resume <its folder>"` : '';
}

/** "Resumed once (…)", or '' for a run that ran in one go. */
export function resumedNote(summary: RunSummary): string {
  const r = summary.resumed;
  if (!r?.length) return '';
  const last = r.at(-1)!;
  return `Resumed ${r.length === 1 ? 'once' : `${r.length} times`} after an interruption; the last resume (${last.at}) found ${last.recorded} results already recorded${r.some((x) => x.droppedPartialLine) ? ' and left out a journal line cut short by the kill' : ''}`;
}
