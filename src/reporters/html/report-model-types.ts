// The plain data the HTML template renders; built by build-report-model.ts, laid out by report-charts.ts.

import type { CaseResult, Counts, GoldenFile, Sample, Status } from '../../core/types.ts';
import type { DivergenceKind } from './report-text.ts';

export interface ReportModelOptions {
  /** suite → golden file, as the run compared against; gives the golden tokens after a divergence and golden tool calls. */
  goldens?: ReadonlyMap<string, GoldenFile | undefined>;
  /** Reads back the whole sample of a result `conform run` let go of (CaseResult.sampleTrimmed); without it such a case shows its figures only. */
  loadSample?: (result: CaseResult) => Sample | undefined;
}


export interface CountsCell {
  suite: string;
  pass: number;
  fail: number;
  error: number;
  skip: number;
  total: number;
  cls: Status | 'empty';
  empty: boolean;
  /** The four counts in display order, zeros flagged so the template can dim them. */
  parts: Array<{ cls: Status; n: number; zero: boolean }>;
}

export interface BackendRow {
  name: string;
  backendClass: string;
  state: string;
  stateCls: string;
  reason: string;
  engine: string;
  device: string;
  driver: string;
  model: string;
  modelSha: string;
  spawnToHealthy: string;
  healthyToFirstAnswer: string;
  firstAnswerTtft: string;
  color: string;
}

export interface TopRow {
  rank: number;
  token: string;
  raw: string;
  logprob: string;
  prob: string;
  isGolden: boolean;
  isGot: boolean;
}

export interface Chip {
  text: string;
  title: string;
  cls: 'same' | 'div' | 'after' | 'extra';
}

export interface TokenDiff {
  divergence: string;
  hasDivergence: boolean;
  divergenceCls: string;
  goldenLabel: string;
  golden: Chip[];
  got: Chip[];
  skippedBefore: number;
  goldenMore: number;
  gotMore: number;
  notes: string[];
  hasTops: boolean;
  goldenTop: TopRow[];
  gotTop: TopRow[];
  topIndex: number;
  goldenChoice: string;
  gotChoice: string;
  textOnly: boolean;
  goldenText: string;
  gotText: string;
}

export interface ToolCallRow {
  index: number;
  goldenName: string;
  gotName: string;
  goldenArgs: string;
  gotArgs: string;
  cls: 'same' | 'differs' | 'missing' | 'extra' | 'unknown';
  verdict: string;
}

export interface ToolDiff {
  goldenKnown: boolean;
  rows: ToolCallRow[];
  note: string;
}

export interface VerdictRow {
  check: string;
  status: Status;
  measured: string;
  threshold: string;
  message: string;
}

export interface CaseRow {
  /**
   * A one-line row with no body: in a run too big to render every case in full, the cases that passed or
   * were skipped. Their samples are on the named line of samples.jsonl.
   */
  compact: boolean;
  /** "samples.jsonl line N", or '' where the result has no journal line. */
  journalLine: string;
  anchor: string;
  backend: string;
  suite: string;
  caseId: string;
  status: Status;
  open: boolean;
  headline: string;
  ttft: string;
  e2e: string;
  finishReason: string;
  tokenCount: string;
  verdicts: VerdictRow[];
  diff: TokenDiff | null;
  tools: ToolDiff | null;
  hasText: boolean;
  text: string;
  hasReasoning: boolean;
  reasoning: string;
  error: string;
  deviations: string;
}

export interface ProblemRow {
  anchor: string;
  status: Status;
  where: string;
  check: string;
  message: string;
}

export interface DivergenceRow {
  anchor: string;
  where: string;
  index: number;
  kind: DivergenceKind;
  cls: string;
  golden: string;
  got: string;
  gap: string;
  message: string;
}

export interface SvgRect { x: number; y: number; w: number; h: number; fill: string; title: string }
export interface SvgText { x: number; y: number; text: string; anchor: 'start' | 'middle' | 'end'; cls: string }
export interface SvgLine { x1: number; y1: number; x2: number; y2: number; cls: string }
export interface SvgPath { d: string; stroke: string; title: string }
export interface LegendItem { color: string; label: string }

export interface Chart {
  id: string;
  title: string;
  description: string;
  width: number;
  height: number;
  rects: SvgRect[];
  texts: SvgText[];
  lines: SvgLine[];
  paths: SvgPath[];
  legend: LegendItem[];
  note: string;
}

export interface ReportModel {
  title: string;
  runId: string;
  conformVersion: string;
  startedAt: string;
  finishedAt: string;
  duration: string;
  verdict: string;
  verdictCls: Status;
  totals: Counts & { total: number };
  /** The banner's count pills; a zero count is grey (`empty`), never the colour of a failure. */
  totalPills: Array<{ cls: Status | 'empty'; text: string }>;
  /** Set for a run that did not finish: how much of it there is, and how to finish it. */
  partialNote: string;
  /** Set for a run completed by `conform run --resume`. */
  resumedNote: string;
  backends: BackendRow[];
  suites: string[];
  matrix: Array<{ backend: string; color: string; cells: CountsCell[]; total: CountsCell }>;
  matrixTotals: CountsCell[];
  grandTotal: CountsCell;
  hasProblems: boolean;
  problems: ProblemRow[];
  hasDivergences: boolean;
  divergences: DivergenceRow[];
  charts: Chart[];
  cases: CaseRow[];
  /** What the Cases section shows, and where the rest is. */
  casesNote: string;
  /** Throughput, cost, energy and engine metrics per backend (src/telemetry/report). */
  hasTelemetry: boolean;
  telemetry: import('../../telemetry/report/telemetry-text.ts').TelemetryRow[];
  crossChecks: Array<{ backend: string; status: string; message: string }>;
}
