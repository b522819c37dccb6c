import { constants } from 'node:buffer';
import { closeSync, existsSync, ftruncateSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConformError } from '../core/errors.ts';
import type { BackendRun, CaseResult } from '../core/types.ts';
import { extend } from '../core/extend.ts';

// Reading a run's journal (samples.jsonl) back: to resume a run that was killed, and to report on one.
// Its lines are: one `run` header, then `backend` and `result` entries as they happened, and one `resume`
// line each time `conform run --resume` continued it.

/** What `conform run --resume` needs to run the same plan again: the selection and what it depended on. */
export interface ResumeInfo {
  /** The selection flags of the original run, as given. */
  selection: { backends: string[]; suites: string[]; shard?: string; config?: string; variants?: boolean };
  /** Hashes of what the verdicts depend on (src/record/run-fingerprint.ts). */
  fingerprint: RunFingerprint;
}

/** sha256 hashes of the resolved config, each suite and each golden file, and the plan's stable ids in order. */
export interface RunFingerprint {
  conformVersion: string;
  config: string;
  suites: Record<string, string>;
  goldens: Record<string, string | null>;
  plan: string;
  planned: number;
}

/** The journal's first line. */
export interface RunHeader {
  type: 'run';
  schemaVersion: 1;
  runId: string;
  conformVersion: string;
  startedAt: string;
  suites?: string[];
  resume?: ResumeInfo;
}

export interface JournalContents {
  file: string;
  header?: RunHeader;
  /** Every result, in journal order; an id recorded twice keeps its first result. */
  results: CaseResult[];
  /** One per backend, its entries of every session combined (continuedBackend). */
  backends: BackendRun[];
  resumes: Array<{ at: string; recorded: number; droppedPartialLine?: boolean }>;
  /** Bytes of a last line cut short by a kill, which was left out; 0 when the journal ended cleanly. */
  droppedBytes: number;
  /** Where the intact lines end: appending must start here. */
  intactBytes: number;
  /** True when the last line is complete JSON whose newline the kill cut off. */
  missingNewline: boolean;
  /** Lines the journal holds once repaired: where the line numbers of appended entries continue. */
  lines: number;
}

const STATE_RANK: Record<BackendRun['state'], number> = { ran: 0, skipped: 1, unavailable: 2, crashed: 3 };

/**
 * The same backend over two sessions of one run: what it was first seen as (identity, cold start, log),
 * the worse of the two states, and both reasons.
 */
export function continuedBackend(first: BackendRun, later: BackendRun): BackendRun {
  const reasons = [...new Set([first.reason, later.reason].filter((r): r is string => Boolean(r)))];
  const merged: BackendRun = {
    ...later,
    ...first,
    identity: { ...later.identity, ...first.identity },
    state: STATE_RANK[later.state] > STATE_RANK[first.state] ? later.state : first.state,
  };
  if (reasons.length) merged.reason = reasons.join('; ');
  else delete merged.reason;
  return merged;
}

const CHUNK = 1 << 20;

/** Calls `line` with each complete line's bytes and its end offset; returns where the unterminated tail starts. */
function forEachLine(file: string, line: (bytes: Buffer, end: number, number: number) => void): { tailStart: number; size: number; lines: number } {
  const fd = openSync(file, 'r');
  const size = statSync(file).size;
  let pending: Buffer[] = [];
  let pendingLength = 0;
  let offset = 0;
  let lineStart = 0;
  let number = 0;
  try {
    const buffer = Buffer.alloc(CHUNK);
    for (let n; (n = readSync(fd, buffer, 0, CHUNK, offset)) > 0; offset += n) {
      let from = 0;
      for (let at = buffer.indexOf(0x0a, 0); at >= 0 && at < n; at = buffer.indexOf(0x0a, at + 1)) {
        const piece = buffer.subarray(from, at);
        const bytes = pendingLength ? Buffer.concat([...pending, piece]) : Buffer.from(piece);
        pending = [];
        pendingLength = 0;
        line(bytes, offset + at + 1, ++number);
        lineStart = offset + at + 1;
        from = at + 1;
      }
      if (from < n) {
        pending.push(Buffer.from(buffer.subarray(from, n)));
        pendingLength += n - from;
      }
    }
  } finally {
    closeSync(fd);
  }
  return { tailStart: lineStart, size, lines: number };
}

function parseLine(bytes: Buffer, file: string, number: number): Record<string, unknown> | undefined {
  if (bytes.length > constants.MAX_STRING_LENGTH)
    throw new ConformError('RECORD_INVALID', `${file}: line ${number} is ${Math.round(bytes.length / 2 ** 20)} MiB, more than conform can read back`);
  const text = bytes.toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    const entry = JSON.parse(text) as unknown;
    if (entry !== null && typeof entry === 'object' && !Array.isArray(entry)) return entry as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new ConformError('RECORD_INVALID', `${file}: line ${number} is not a journal entry (JSON object); the journal was changed by hand or is not conform's`);
}

/**
 * Reads a run folder's samples.jsonl. A last line cut short by a kill is left out (droppedBytes says how
 * much); a broken line anywhere else means the file is not an intact journal, and is refused.
 */
export function readJournal(runDir: string): JournalContents {
  const file = join(runDir, 'samples.jsonl');
  if (!existsSync(file)) throw new ConformError('RECORD_INVALID', `${file}: no such file; is ${runDir} a run folder (reports/<run-id>)?`);
  const contents: JournalContents = { file, results: [], backends: [], resumes: [], droppedBytes: 0, intactBytes: 0, missingNewline: false, lines: 0 };
  const seen = new Set<string>();
  const backends = new Map<string, BackendRun>();
  // Within one session the last entry of a backend is its state; across sessions they combine.
  let session = new Map<string, BackendRun>();
  const closeSession = () => {
    for (const [name, run] of session) backends.set(name, backends.has(name) ? continuedBackend(backends.get(name)!, run) : run);
    session = new Map();
  };
  const take = (entry: Record<string, unknown>, number: number) => {
    const { type, ...rest } = entry;
    if (type === 'run') {
      if (number !== 1) throw new ConformError('RECORD_INVALID', `${file}: line ${number} starts another run; a journal holds one run (merge folders with "conform merge")`);
      contents.header = entry as unknown as RunHeader;
    } else if (type === 'resume') {
      closeSession();
      contents.resumes.push(rest as JournalContents['resumes'][number]);
    } else if (type === 'backend') session.set(String(rest.name), rest as unknown as BackendRun);
    else if (type === 'result') {
      const result = rest as unknown as CaseResult;
      if (typeof result.id !== 'string' || seen.has(result.id)) return;
      seen.add(result.id);
      contents.results.push(extend(result, { sampleLine: number }));
    }
  };
  const { tailStart, size, lines } = forEachLine(file, (bytes, end, number) => {
    const entry = parseLine(bytes, file, number);
    if (entry) take(entry, number);
    contents.intactBytes = end;
    contents.lines = number;
  });
  if (tailStart < size) {
    // The kill came while the last line was being written: keep it only if it is whole.
    const tail = Buffer.alloc(size - tailStart);
    const fd = openSync(file, 'r');
    try {
      readSync(fd, tail, 0, tail.length, tailStart);
    } finally {
      closeSync(fd);
    }
    let entry: Record<string, unknown> | undefined;
    try {
      entry = tail.length <= constants.MAX_STRING_LENGTH ? (JSON.parse(tail.toString('utf8')) as Record<string, unknown>) : undefined;
    } catch {
      entry = undefined;
    }
    if (entry && typeof entry === 'object') {
      take(entry, lines + 1);
      contents.intactBytes = size;
      contents.missingNewline = true;
      contents.lines = lines + 1;
    } else contents.droppedBytes = size - tailStart;
  }
  closeSession();
  contents.backends = [...backends.values()];
  return contents;
}

/** Makes the journal end where its intact lines end, with a newline, so that appending continues it cleanly. */
export function repairJournal(contents: JournalContents): void {
  if (contents.droppedBytes === 0 && !contents.missingNewline) return;
  const fd = openSync(contents.file, 'r+');
  try {
    ftruncateSync(fd, contents.intactBytes);
    if (contents.missingNewline) writeSync(fd, '\n', contents.intactBytes);
  } finally {
    closeSync(fd);
  }
}

/** A run folder that `conform run --resume` can continue, read back. */
export interface ResumableRun {
  dir: string;
  header: RunHeader & { resume: ResumeInfo };
  contents: JournalContents;
}

/** Opens a run folder for resuming, refusing one whose journal cannot say what the run was. */
export function resumableRun(path: string, cwd: string): ResumableRun {
  const dir = resolve(cwd, path);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ConformError('USAGE', `--resume ${path}: no such run folder; give a folder under reports/, for example --resume reports/20260101T000000Z-abcdef`);
  if (!existsSync(join(dir, 'samples.jsonl'))) throw new ConformError('USAGE', `--resume ${path}: no samples.jsonl there; is it a run folder (reports/<run-id>)?`);
  const contents = readJournal(dir);
  const header = contents.header;
  if (!header) throw new ConformError('RECORD_INVALID', `${join(path, 'samples.jsonl')}: its first line is not a run header; it cannot be resumed`);
  if (!header.resume) throw new ConformError('RECORD_INVALID', `${join(path, 'samples.jsonl')}: written by a conform that did not record what resuming needs (run ${header.runId}); start a new run`);
  return { dir, header: header as ResumableRun['header'], contents };
}
