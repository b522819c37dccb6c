import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeBadge } from 'badge-maker';
import type { BackendBadgeStatus, BadgeStatus } from '../core/badge-status.ts';
import { ConformError } from '../core/errors.ts';

// Per-backend badges for docs sites: an SVG to embed, a shields.io endpoint JSON for those who
// render through shields, and a history that remembers the last release each backend passed.

export const BADGE_COLORS: Record<BadgeStatus, 'green' | 'red' | 'lightgrey'> = { passing: 'green', failing: 'red', unknown: 'lightgrey' };

/** Backend names become file names; the config schema allows exactly these. */
const SAFE_NAME = /^[a-z0-9][a-z0-9_-]*$/;

/** The release of a run that has none: no --release, no config release, no git tag. */
export const UNKNOWN_RELEASE = 'unknown';

/** `passing v1.2.3`, `failing`, `unknown`; a passing run of an unknown release just says `passing`. */
export function badgeMessage(status: BadgeStatus, release: string): string {
  return status === 'passing' && release !== UNKNOWN_RELEASE ? `passing ${release}` : status;
}

/** The shields.io endpoint schema: https://shields.io/badges/endpoint-badge */
export interface ShieldsEndpoint {
  schemaVersion: 1;
  label: string;
  message: string;
  color: string;
}

export interface BadgeContent {
  label: string;
  message: string;
  color: string;
}

export function badgeContent(backend: string, status: BadgeStatus, release: string, label: string): BadgeContent {
  return { label: label ? `${label} ${backend}` : backend, message: badgeMessage(status, release), color: BADGE_COLORS[status] };
}

/** badge-maker escapes every text it puts in the SVG (label, message, title, aria-label). */
export function renderBadgeSvg(content: BadgeContent): string {
  return makeBadge({ label: content.label, message: content.message, color: content.color, style: 'flat' });
}

export interface BadgeHistoryEntry {
  release: string;
  status: BadgeStatus;
  /** When the run finished (ISO). */
  date: string;
  runId: string;
}

export interface BackendBadgeHistory {
  lastPassing: { release: string; date: string; runId: string } | null;
  /** Newest first, at most the history limit. */
  recent: BadgeHistoryEntry[];
}

export interface BadgeHistory {
  schemaVersion: 1;
  backends: Record<string, BackendBadgeHistory>;
}

export const HISTORY_LIMIT = 20;

/**
 * Adds one run to the history. Badging the same run and release again replaces its entry rather
 * than adding one; the last passing release only moves forward in time.
 */
export function updateBadgeHistory(
  previous: BadgeHistory | undefined,
  statuses: BackendBadgeStatus[],
  run: { release: string; date: string; runId: string },
  limit = HISTORY_LIMIT,
): BadgeHistory {
  const backends: Record<string, BackendBadgeHistory> = structuredClone(previous?.backends ?? {});
  for (const { backend, status } of statuses) {
    const entry: BadgeHistoryEntry = { release: run.release, status, date: run.date, runId: run.runId };
    const old = backends[backend] ?? { lastPassing: null, recent: [] };
    const recent = [entry, ...old.recent.filter((e) => !(e.runId === run.runId && e.release === run.release))]
      .sort((a, b) => Date.parse(b.date) - Date.parse(a.date))
      .slice(0, limit);
    let lastPassing = old.lastPassing;
    // An untagged run is no release: it must not push a real last passing release out of the table.
    const released = run.release !== UNKNOWN_RELEASE;
    if (status === 'passing' && released && (!lastPassing || Date.parse(run.date) >= Date.parse(lastPassing.date))) lastPassing = { release: run.release, date: run.date, runId: run.runId };
    backends[backend] = { lastPassing, recent };
  }
  const sorted = Object.fromEntries(Object.entries(backends).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return { schemaVersion: 1, backends: sorted };
}

export function readBadgeHistory(file: string): BadgeHistory | undefined {
  if (!existsSync(file)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConformError('RECORD_INVALID', `${file}: not valid JSON (${(error as Error).message.split('\n')[0]}); fix or delete it to start a new history`, { cause: error });
  }
  const history = raw as Partial<BadgeHistory> | null;
  if (!history || history.schemaVersion !== 1 || typeof history.backends !== 'object' || history.backends === null || Array.isArray(history.backends))
    throw new ConformError('RECORD_INVALID', `${file}: not a conform badge history (schemaVersion 1); fix or delete it to start a new history`);
  for (const [name, b] of Object.entries(history.backends))
    if (!b || !Array.isArray(b.recent) || (b.lastPassing !== null && typeof b.lastPassing !== 'object'))
      throw new ConformError('RECORD_INVALID', `${file}: backends.${name} needs lastPassing and recent; fix or delete it to start a new history`);
  return history as BadgeHistory;
}

/** Text safe in a Markdown table cell: no pipe ends the cell, no angle bracket opens HTML. */
function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');
}

/** The last passing release of every backend, as a Markdown table for a docs page. */
export function lastPassingMarkdown(history: BadgeHistory): string {
  const lines = [
    '# Last passing release per backend',
    '',
    'Generated by `conform badge` from history.json; edits are overwritten.',
    '',
    '| backend | badge | last passing release | date | latest result |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const [backend, b] of Object.entries(history.backends)) {
    const latest = b.recent[0];
    const release = (r: string) => (r === UNKNOWN_RELEASE ? 'untagged' : r);
    const latestText = latest ? `${latest.status} (${release(latest.release)}, ${latest.date.slice(0, 10)})` : '—';
    const badge = SAFE_NAME.test(backend) ? `![${backend}](${backend}.svg)` : '';
    const passedUntagged = b.recent.some((e) => e.status === 'passing' && e.release === UNKNOWN_RELEASE);
    const last = b.lastPassing ? cell(b.lastPassing.release) : passedUntagged ? 'no tagged release yet' : 'never';
    lines.push(`| ${cell(backend)} | ${badge} | ${last} | ${b.lastPassing ? b.lastPassing.date.slice(0, 10) : '—'} | ${cell(latestText)} |`);
  }
  return `${lines.join('\n')}\n`;
}

export interface WriteBadgesOptions {
  outDir: string;
  statuses: BackendBadgeStatus[];
  release: string;
  label: string;
  runId: string;
  /** When the run finished (ISO). */
  date: string;
  historyLimit?: number;
}

/** Writes <backend>.svg and <backend>.json per backend, and updates history.json and last-passing.md. Returns the files written. */
export function writeBadges(options: WriteBadgesOptions): string[] {
  for (const { backend } of options.statuses)
    if (!SAFE_NAME.test(backend)) throw new ConformError('RECORD_INVALID', `backend name ${JSON.stringify(backend)} cannot name a badge file; backend names match ${SAFE_NAME}`);
  mkdirSync(options.outDir, { recursive: true });
  const written: string[] = [];
  const write = (name: string, text: string) => {
    const file = join(options.outDir, name);
    writeFileSync(file, text);
    written.push(file);
  };
  for (const { backend, status } of options.statuses) {
    const content = badgeContent(backend, status, options.release, options.label);
    write(`${backend}.svg`, `${renderBadgeSvg(content)}\n`);
    const endpoint: ShieldsEndpoint = { schemaVersion: 1, label: content.label, message: content.message, color: content.color };
    write(`${backend}.json`, `${JSON.stringify(endpoint, null, 2)}\n`);
  }
  const historyFile = join(options.outDir, 'history.json');
  const history = updateBadgeHistory(readBadgeHistory(historyFile), options.statuses, { release: options.release, date: options.date, runId: options.runId }, options.historyLimit);
  write('history.json', `${JSON.stringify(history, null, 2)}\n`);
  write('last-passing.md', lastPassingMarkdown(history));
  return written;
}
