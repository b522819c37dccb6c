// Turns a RunSummary into the plain data the HTML template renders: every label formatted, every chart
// laid out in SVG coordinates, every decision (status colours, which side diverged) taken here. The
// template only iterates and tests flags, so all escaping is Handlebars' `{{ }}` over plain strings.

import { firstDivergence, sameToken } from '../../assertions/tokens.ts';
import type { BackendRun, CaseResult, Counts, GoldenFile, RunSummary, Sample, Status, TokenStep, ToolCall, Verdict } from '../../core/types.ts';

export interface ReportModelOptions {
  /** suite → golden file, as the run compared against; gives the golden tokens after a divergence and golden tool calls. */
  goldens?: ReadonlyMap<string, GoldenFile | undefined>;
}

// ---------------------------------------------------------------------------------------------------------
// Text helpers shared by the reporters.

const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const hex4 = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

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

function formatLogprob(logprob: number | undefined): string {
  if (logprob === undefined || !Number.isFinite(logprob)) return '—';
  if (logprob <= -1000) return '−∞';
  return logprob.toFixed(3);
}

function formatProb(logprob: number | undefined): string {
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

// ---------------------------------------------------------------------------------------------------------
// The model.

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
}

const PALETTE = ['#2f6fb3', '#d9730d', '#2e8b57', '#b03a8c', '#7b61c9', '#8c6d1f', '#1f8a99', '#c0392b'];
const CHIP_LIMIT = 160;
const CHIPS_BEFORE_DIVERGENCE = 40;

const r1 = (n: number) => Math.round(n * 10) / 10;

function cell(suite: string, c: Counts | undefined): CountsCell {
  const counts = c ?? { pass: 0, fail: 0, error: 0, skip: 0 };
  const total = counts.pass + counts.fail + counts.error + counts.skip;
  const cls: CountsCell['cls'] = total === 0 ? 'empty' : counts.fail ? 'fail' : counts.error ? 'error' : counts.pass ? 'pass' : 'skip';
  const parts = (['pass', 'fail', 'error', 'skip'] as const).map((k) => ({ cls: k, n: counts[k], zero: counts[k] === 0 }));
  return { suite, ...counts, total, cls, empty: total === 0, parts };
}

function addCounts(into: Counts, c: Counts): void {
  into.pass += c.pass;
  into.fail += c.fail;
  into.error += c.error;
  into.skip += c.skip;
}

/** Backends in the order the summary lists them, then any only the results mention. */
function backendNames(summary: RunSummary): string[] {
  const names = summary.backends.map((b) => b.name);
  for (const r of summary.results) if (!names.includes(r.backend)) names.push(r.backend);
  for (const b of Object.keys(summary.matrix)) if (!names.includes(b)) names.push(b);
  return names;
}

function suiteNames(summary: RunSummary): string[] {
  const names = [...summary.suites];
  for (const r of summary.results) if (!names.includes(r.suite)) names.push(r.suite);
  return names;
}

export function anchorFor(result: CaseResult, index: number): string {
  const raw = `${result.id ?? ''}` || `${index}`;
  return `case-${raw.replace(/[^A-Za-z0-9_-]/g, '_')}-${index}`;
}

function backendRow(run: BackendRun, color: string): BackendRow {
  const id = run.identity ?? {};
  return {
    name: run.name,
    backendClass: run.class,
    state: run.state,
    stateCls: run.state === 'ran' ? 'pass' : run.state === 'skipped' ? 'skip' : 'error',
    reason: run.reason ?? '',
    engine: [id.engine, id.engineVersion].filter(Boolean).join(' · ') || '—',
    device: [id.device, id.gpu && id.gpu !== id.device ? `(${id.gpu})` : ''].filter(Boolean).join(' ') || '—',
    driver: id.driver ?? '—',
    model: id.model ?? '—',
    modelSha: id.modelSha256 ? id.modelSha256.slice(0, 12) : '—',
    spawnToHealthy: formatMs(run.coldStart?.spawnToHealthyMs),
    healthyToFirstAnswer: formatMs(run.coldStart?.healthyToFirstAnswerMs),
    firstAnswerTtft: formatMs(run.coldStart?.firstAnswerTtftMs),
    color,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Golden: where the golden side of a diff comes from.

interface GoldenSide {
  sample?: Sample;
  label: string;
  note?: string;
}

function resolveGolden(result: CaseResult, summary: RunSummary, options: ReportModelOptions, exactTwins: Map<string, CaseResult>, divergence: DivergenceInfo | undefined): GoldenSide {
  const file = options.goldens?.get(result.suite);
  const fromFile = file?.samples?.[result.caseId];
  let note: string | undefined;
  if (file && fromFile) {
    const recorded = Date.parse(file.provenance?.recordedAt ?? '');
    const started = Date.parse(summary.startedAt);
    const atDivergence = divergence?.golden ? fromFile.tokens[divergence.index] : undefined;
    if (Number.isFinite(recorded) && Number.isFinite(started) && recorded > started)
      note = `golden/${result.suite}.json was re-recorded after this run (${file.provenance.recordedAt}), so it is not used here`;
    else if (divergence?.golden && (!atDivergence || !sameToken(atDivergence, divergence.golden)))
      note = `golden/${result.suite}.json no longer matches the golden token this run compared against, so it is not used here`;
    else return { sample: fromFile, label: `golden (${file.provenance?.backend ?? 'reference'})` };
  }
  // A result whose exact check passed is, by that check, identical to golden in text, tokens and tool calls.
  const twin = exactTwins.get(`${result.suite}\0${result.caseId}`);
  if (twin?.sample) return { sample: twin.sample, label: `golden (= ${twin.backend}, exact)`, note };
  return { label: 'golden', note };
}

function chipsFor(steps: TokenStep[], from: number, to: number, divergenceAt: number, limitTo: number): Chip[] {
  const chips: Chip[] = [];
  for (let i = from; i < Math.min(to, limitTo); i++) {
    const step = steps[i]!;
    const cls: Chip['cls'] = divergenceAt < 0 || i < divergenceAt ? 'same' : i === divergenceAt ? 'div' : 'after';
    chips.push({ text: visibleToken(step.token), title: `#${i} ${JSON.stringify(visibleText(step.token))}${step.logprob !== undefined ? ` logprob ${formatLogprob(step.logprob)}` : ''}`, cls });
  }
  return chips;
}

function topRows(step: TokenStep | undefined, golden: TokenStep | undefined, got: TokenStep | undefined): TopRow[] {
  if (!step) return [];
  return step.top.slice(0, 10).map((alt, i) => ({
    rank: i + 1,
    token: visibleToken(alt.token),
    raw: JSON.stringify(visibleText(alt.token)),
    logprob: formatLogprob(alt.logprob),
    prob: formatProb(alt.logprob),
    isGolden: golden ? sameToken(alt, golden) : false,
    isGot: got ? sameToken(alt, got) : false,
  }));
}

function hasGoldenComparison(result: CaseResult): boolean {
  return result.verdicts.some((v) => (v.check === 'greedy-divergence' || v.check === 'exact') && (v.status === 'pass' || v.status === 'fail'));
}

function tokenDiff(result: CaseResult, side: GoldenSide, divergence: DivergenceInfo | undefined): TokenDiff | null {
  const sample = result.sample;
  if (!sample || !hasGoldenComparison(result)) return null;
  const notes: string[] = side.note ? [side.note] : [];
  const greedy = result.verdicts.find((v) => v.check === 'greedy-divergence');
  const agreedAllTheWay = greedy?.status === 'pass' && greedy.details?.divergenceIndex === null;
  const base: TokenDiff = {
    divergence: '',
    hasDivergence: false,
    divergenceCls: '',
    goldenLabel: side.label,
    golden: [],
    got: [],
    skippedBefore: 0,
    goldenMore: 0,
    gotMore: 0,
    notes,
    hasTops: false,
    goldenTop: [],
    gotTop: [],
    topIndex: -1,
    goldenChoice: '',
    gotChoice: '',
    textOnly: false,
    goldenText: '',
    gotText: '',
  };
  const got = sample.tokens;
  if (got.length === 0) {
    // No logprobs: the comparison was on text.
    base.textOnly = true;
    base.gotText = visibleText(sample.text);
    if (side.sample) base.goldenText = visibleText(side.sample.text);
    else if (agreedAllTheWay || greedy?.status === 'pass') base.goldenText = base.gotText;
    else notes.push('the golden text is not in the run record');
    return base;
  }
  let golden: TokenStep[];
  if (side.sample && side.sample.tokens.length > 0) golden = side.sample.tokens;
  else if (agreedAllTheWay && !divergence) {
    golden = got;
    notes.push('golden tokens shown from the verdict: no divergence over the whole sequence');
  } else if (divergence?.golden) {
    golden = [...got.slice(0, divergence.index), divergence.golden];
    notes.push('the run record keeps golden only up to the divergence; later golden tokens are not shown');
  } else {
    golden = [];
    notes.push('golden tokens are not in the run record');
  }
  let index = divergence?.index ?? -1;
  if (index < 0 && golden !== got && golden.length > 0) {
    const first = firstDivergence(golden, got);
    index = first >= 0 ? first : golden.length !== got.length ? Math.min(golden.length, got.length) : -1;
  }
  const from = index > CHIPS_BEFORE_DIVERGENCE ? index - CHIPS_BEFORE_DIVERGENCE : 0;
  const limitTo = from + CHIP_LIMIT;
  base.skippedBefore = from;
  base.golden = chipsFor(golden, from, golden.length, index, limitTo);
  base.got = chipsFor(got, from, got.length, index, limitTo);
  // A sequence that simply runs longer than the other is marked from where the shorter one stopped.
  if (index >= 0 && index >= Math.min(golden.length, got.length)) {
    for (const chip of base.golden.length > base.got.length ? base.golden : base.got) if (chip.cls !== 'same') chip.cls = 'extra';
  }
  base.goldenMore = Math.max(0, golden.length - limitTo);
  base.gotMore = Math.max(0, got.length - limitTo);
  if (index >= 0) {
    base.hasDivergence = true;
    base.divergenceCls = divergence?.kind === 'near-tie' ? 'near-tie' : 'confident';
    const kind = divergence?.kind ?? (index >= Math.min(golden.length, got.length) ? 'length' : 'divergence');
    base.divergence = `first divergence at token ${index} (${kind})${divergence?.gap !== undefined ? `, logprob gap ${divergence.gap.toFixed(3)} nats` : ''}${divergence?.prefixLogprobDelta !== undefined ? `, prefix drift ${divergence.prefixLogprobDelta.toFixed(4)} nats` : ''}`;
    const goldenStep = divergence?.golden ?? golden[index];
    const gotStep = divergence?.got ?? got[index];
    if (goldenStep && gotStep) {
      base.hasTops = true;
      base.topIndex = index;
      base.goldenChoice = visibleToken(goldenStep.token);
      base.gotChoice = visibleToken(gotStep.token);
      base.goldenTop = topRows(goldenStep, goldenStep, gotStep);
      base.gotTop = topRows(gotStep, goldenStep, gotStep);
    }
  } else {
    base.divergence = `identical to golden over ${got.length} tokens`;
  }
  return base;
}

function prettyArgs(args: string): string {
  try {
    return JSON.stringify(JSON.parse(args));
  } catch {
    return args;
  }
}

function canonical(args: string): string {
  try {
    const sort = (v: unknown): unknown => (Array.isArray(v) ? v.map(sort) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, sort(x)])) : v);
    return JSON.stringify(sort(JSON.parse(args)));
  } catch {
    return args;
  }
}

function toolDiff(result: CaseResult, side: GoldenSide): ToolDiff | null {
  const got = result.sample?.toolCalls ?? [];
  const golden: ToolCall[] | undefined = side.sample?.toolCalls;
  const verdict = result.verdicts.find((v) => v.check === 'tool-call');
  if (got.length === 0 && (golden?.length ?? 0) === 0 && !verdict) return null;
  const rows: ToolCallRow[] = [];
  const n = Math.max(got.length, golden?.length ?? 0);
  for (let i = 0; i < n; i++) {
    const g = golden?.[i];
    const b = got[i];
    const cls: ToolCallRow['cls'] = !golden ? 'unknown' : !b ? 'missing' : !g ? 'extra' : g.name === b.name && canonical(g.arguments) === canonical(b.arguments) ? 'same' : 'differs';
    rows.push({
      index: i,
      goldenName: g ? visibleText(g.name) : '—',
      gotName: b ? visibleText(b.name) : '—',
      goldenArgs: g ? visibleText(prettyArgs(g.arguments)) : '—',
      gotArgs: b ? visibleText(prettyArgs(b.arguments)) : '—',
      cls,
      verdict: !golden ? '' : cls === 'same' ? 'same' : cls === 'missing' ? 'golden call missing' : cls === 'extra' ? 'extra call' : g!.name !== b!.name ? 'different tool' : 'different arguments',
    });
  }
  return {
    goldenKnown: Boolean(golden),
    rows,
    note: golden ? (rows.length === 0 ? 'no tool calls on either side' : '') : 'golden tool calls are not in the run record; showing the backend’s calls only',
  };
}

function caseRow(result: CaseResult, index: number, summary: RunSummary, options: ReportModelOptions, exactTwins: Map<string, CaseResult>): CaseRow {
  const divergence = divergenceOf(result);
  const side = resolveGolden(result, summary, options, exactTwins, divergence);
  const sample = result.sample;
  const decisive = decisiveVerdict(result);
  return {
    anchor: anchorFor(result, index),
    backend: result.backend,
    suite: result.suite,
    caseId: result.caseId,
    status: result.status,
    open: result.status === 'fail' || result.status === 'error' || divergence !== undefined,
    headline: decisive ? `[${decisive.check}] ${visibleText(decisive.message)}` : '',
    ttft: formatMs(sample?.timings.firstTokenMs),
    e2e: formatMs(sample?.timings.endMs),
    finishReason: sample?.finishReason ?? '—',
    tokenCount: sample ? String(sample.tokens.length || sample.usage?.completionTokens || 0) : '—',
    verdicts: result.verdicts.map((v) => ({ check: v.check, status: v.status, measured: formatValue(v.measured), threshold: formatValue(v.threshold), message: visibleText(v.message) })),
    diff: tokenDiff(result, side, divergence),
    tools: toolDiff(result, side),
    hasText: Boolean(sample && sample.text),
    text: sample ? visibleText(sample.text) : '',
    hasReasoning: Boolean(sample?.reasoning),
    reasoning: visibleText(sample?.reasoning ?? ''),
    error: sample?.error ? visibleText(`${sample.kind}${sample.error.status ? ` ${sample.error.status}` : ''}: ${sample.error.message}`) : '',
    deviations: sample?.deviations.length ? sample.deviations.join(', ') : '',
  };
}

// ---------------------------------------------------------------------------------------------------------
// Charts: laid out here as rectangles, lines and texts in SVG user units.

function niceStep(max: number, targetTicks: number): number {
  const raw = max / Math.max(1, targetTicks);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const m = raw / magnitude;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 2.5 ? 2.5 : m <= 5 ? 5 : 10) * magnitude;
}

function linearTicks(max: number): number[] {
  if (!(max > 0)) return [0, 1];
  const step = niceStep(max, 5);
  const ticks: number[] = [];
  for (let t = 0; t <= max + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  if (ticks[ticks.length - 1]! < max) ticks.push(Number((ticks[ticks.length - 1]! + step).toPrecision(12)));
  return ticks;
}

function emptyChart(id: string, title: string, description: string, width: number, height: number): Chart {
  return { id, title, description, width, height, rects: [], texts: [], lines: [], paths: [], legend: [], note: '' };
}

const LABEL_W = 250;
const CHART_W = 760;

function shorten(label: string, max = 36): string {
  return label.length > max ? `${label.slice(0, max - 1)}…` : label;
}

/** Axis labels: round numbers stay round ("50 ms", "1 s", "2.5 s"). */
function tickLabel(ms: number): string {
  if (ms === 0) return '0';
  if (ms >= 1000) return `${Number((ms / 1000).toPrecision(4))} s`;
  return `${Number(ms.toPrecision(4))} ms`;
}

function xAxis(chart: Chart, ticks: number[], x: (v: number) => number, top: number, bottom: number, label: (v: number) => string): void {
  for (const t of ticks) {
    const px = r1(x(t));
    chart.lines.push({ x1: px, y1: top, x2: px, y2: bottom, cls: 'grid' });
    chart.texts.push({ x: px, y: bottom + 14, text: label(t), anchor: 'middle', cls: 'tick' });
  }
  chart.lines.push({ x1: r1(x(ticks[0]!)), y1: bottom, x2: r1(x(ticks[ticks.length - 1]!)), y2: bottom, cls: 'axis' });
}

/**
 * An x scale for latencies between left and right: linear from 0, or logarithmic over whole decades when
 * the values span 20× or more, so a 3 ms TTFT and a 13 s one can both be read.
 */
function latencyScale(values: number[], left: number, right: number): { x: (v: number) => number; ticks: number[]; log: boolean } {
  const positive = values.filter((v) => v > 0);
  const min = positive.length ? Math.min(...positive) : 0;
  const max = Math.max(0, ...values);
  if (min > 0 && max / min >= 20) {
    const lo = 10 ** Math.floor(Math.log10(min));
    const hi = 10 ** Math.ceil(Math.log10(max));
    const ticks: number[] = [];
    for (let t = lo; t <= hi * 1.0001; t *= 10) ticks.push(Number(t.toPrecision(6)));
    const span = Math.log10(hi) - Math.log10(lo);
    return { x: (v) => left + ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / span) * (right - left), ticks, log: true };
  }
  const ticks = linearTicks(max);
  return { x: (v) => left + (v / ticks[ticks.length - 1]!) * (right - left), ticks, log: false };
}

function ttftChart(results: CaseResult[], backends: string[], colors: Map<string, string>): Chart {
  const chart = emptyChart('chart-ttft', 'Time to first token per case', 'Horizontal bars: TTFT (sample.timings.firstTokenMs) of each case on each backend.', CHART_W, 0);
  const cases: Array<{ key: string; label: string; values: Map<string, number> }> = [];
  let missing = 0;
  let samples = 0;
  for (const r of results) {
    if (!r.sample) continue;
    samples++;
    const ttft = r.sample.timings.firstTokenMs;
    if (ttft === undefined || !Number.isFinite(ttft)) {
      missing++;
      continue;
    }
    const key = `${r.suite}/${r.caseId}`;
    let entry = cases.find((c) => c.key === key);
    if (!entry) cases.push((entry = { key, label: key, values: new Map() }));
    entry.values.set(r.backend, ttft);
  }
  const shown = backends.filter((b) => cases.some((c) => c.values.has(b)));
  chart.legend = shown.map((b) => ({ color: colors.get(b)!, label: b }));
  chart.note = missing ? `${missing} of ${samples} samples carry no TTFT (not streamed, or no content arrived) and are not plotted.` : '';
  const top = 10;
  const barH = 12;
  const rowH = Math.max(1, shown.length) * barH + 10;
  const plotBottom = top + Math.max(1, cases.length) * rowH;
  chart.height = plotBottom + 30;
  if (cases.length === 0) {
    chart.texts.push({ x: CHART_W / 2, y: top + 14, text: 'No sample has a TTFT: no case was streamed.', anchor: 'middle', cls: 'empty' });
    return chart;
  }
  const right = CHART_W - 70;
  const { x, ticks, log } = latencyScale(cases.flatMap((c) => [...c.values.values()]), LABEL_W, right);
  if (log) chart.note = [chart.note, 'The time axis is logarithmic: TTFTs span more than an order of magnitude.'].filter(Boolean).join(' ');
  xAxis(chart, ticks, x, top, plotBottom, tickLabel);
  cases.forEach((c, i) => {
    const y0 = top + i * rowH + 5;
    chart.texts.push({ x: LABEL_W - 8, y: r1(y0 + (shown.length * barH) / 2 + 4), text: shorten(c.label), anchor: 'end', cls: 'label' });
    shown.forEach((b, j) => {
      const v = c.values.get(b);
      if (v === undefined) return;
      const y = y0 + j * barH;
      chart.rects.push({ x: LABEL_W, y: r1(y), w: Math.max(1, r1(x(v) - LABEL_W)), h: barH - 2, fill: colors.get(b)!, title: `${b} ${c.label}: TTFT ${formatMs(v)}` });
      chart.texts.push({ x: r1(x(v) + 4), y: r1(y + barH - 3), text: formatMs(v), anchor: 'start', cls: 'value' });
    });
  });
  return chart;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function cdfChart(results: CaseResult[], backends: string[], colors: Map<string, string>): Chart {
  const chart = emptyChart('chart-cdf', 'End-to-end latency CDF per backend', 'Step lines: the share of successful samples (y) finished within a latency (x, sample.timings.endMs).', CHART_W, 280);
  const series = backends
    .map((b) => ({ backend: b, values: results.filter((r) => r.backend === b && r.sample?.kind === 'ok' && Number.isFinite(r.sample.timings.endMs)).map((r) => r.sample!.timings.endMs).sort((a, c) => a - c) }))
    .filter((s) => s.values.length > 0);
  const left = 60;
  const right = CHART_W - 20;
  const top = 10;
  const bottom = 240;
  if (series.length === 0) {
    chart.texts.push({ x: CHART_W / 2, y: 120, text: 'No successful samples to plot.', anchor: 'middle', cls: 'empty' });
    return chart;
  }
  const all = series.flatMap((s) => s.values);
  const { x, ticks, log } = latencyScale(all, left, right);
  if (log) chart.note = 'Latency axis is logarithmic: the latencies span more than an order of magnitude.';
  const y = (f: number) => bottom - f * (bottom - top);
  xAxis(chart, ticks, x, top, bottom, tickLabel);
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    chart.lines.push({ x1: left, y1: r1(y(f)), x2: right, y2: r1(y(f)), cls: f === 0 ? 'axis' : 'grid' });
    chart.texts.push({ x: left - 6, y: r1(y(f) + 4), text: `${Math.round(f * 100)}%`, anchor: 'end', cls: 'tick' });
  }
  chart.texts.push({ x: (left + right) / 2, y: bottom + 32, text: 'end-to-end latency', anchor: 'middle', cls: 'axis-title' });
  for (const s of series) {
    const n = s.values.length;
    let d = `M${r1(x(s.values[0]!))},${r1(y(0))}`;
    s.values.forEach((v, i) => {
      d += ` H${r1(x(v))} V${r1(y((i + 1) / n))}`;
    });
    const stats = `n=${n}, p50 ${formatMs(percentile(s.values, 50))}, p90 ${formatMs(percentile(s.values, 90))}, max ${formatMs(s.values[n - 1])}`;
    chart.paths.push({ d, stroke: colors.get(s.backend)!, title: `${s.backend}: ${stats}` });
    chart.legend.push({ color: colors.get(s.backend)!, label: `${s.backend} (${stats})` });
  }
  return chart;
}

const SPAWN_COLOR = '#5b7db1';
const FIRST_ANSWER_COLOR = '#e39b3b';

function coldStartChart(backends: BackendRun[]): Chart {
  const chart = emptyChart('chart-cold-start', 'Cold start per backend', 'Stacked bars: spawn to healthy, then healthy to the first real answer.', CHART_W, 0);
  chart.legend = [{ color: SPAWN_COLOR, label: 'spawn → healthy' }, { color: FIRST_ANSWER_COLOR, label: 'healthy → first answer' }];
  const top = 10;
  const rowH = 26;
  const bottom = top + Math.max(1, backends.length) * rowH;
  chart.height = bottom + 30;
  const totals = backends.map((b) => (b.coldStart?.spawnToHealthyMs ?? 0) + (b.coldStart?.healthyToFirstAnswerMs ?? 0));
  const max = Math.max(0, ...totals);
  if (backends.length === 0 || max === 0) {
    chart.texts.push({ x: CHART_W / 2, y: top + 14, text: 'No backend was launched by conform, so there is no cold start to show.', anchor: 'middle', cls: 'empty' });
    if (backends.length === 0) return chart;
  }
  const ticks = linearTicks(max || 1);
  const right = CHART_W - 150;
  const x = (v: number) => LABEL_W + (v / ticks[ticks.length - 1]!) * (right - LABEL_W);
  if (max > 0) xAxis(chart, ticks, x, top, bottom, tickLabel);
  backends.forEach((b, i) => {
    const y = top + i * rowH + 5;
    chart.texts.push({ x: LABEL_W - 8, y: y + 12, text: shorten(b.name), anchor: 'end', cls: 'label' });
    const spawn = b.coldStart?.spawnToHealthyMs;
    const first = b.coldStart?.healthyToFirstAnswerMs;
    if (spawn === undefined && first === undefined) {
      chart.texts.push({ x: LABEL_W + 4, y: y + 12, text: b.state === 'ran' ? 'not launched by conform' : `${b.state}${b.reason ? `: ${shorten(b.reason, 60)}` : ''}`, anchor: 'start', cls: 'value' });
      return;
    }
    let at = LABEL_W;
    if (spawn !== undefined) {
      const w = Math.max(1, r1(x(spawn) - LABEL_W));
      chart.rects.push({ x: at, y, w, h: 16, fill: SPAWN_COLOR, title: `${b.name}: spawn → healthy ${formatMs(spawn)}` });
      at = r1(at + w);
    }
    if (first !== undefined) {
      const w = Math.max(1, r1(x(first) - LABEL_W));
      chart.rects.push({ x: at, y, w, h: 16, fill: FIRST_ANSWER_COLOR, title: `${b.name}: healthy → first answer ${formatMs(first)}` });
      at = r1(at + w);
    }
    chart.texts.push({ x: at + 6, y: y + 12, text: `${formatMs(spawn)} + ${formatMs(first)}`, anchor: 'start', cls: 'value' });
  });
  return chart;
}

// ---------------------------------------------------------------------------------------------------------

/** Everything report.hbs shows, computed from the summary alone (plus golden files when given). */
export function buildReportModel(summary: RunSummary, options: ReportModelOptions = {}): ReportModel {
  const backends = backendNames(summary);
  const suites = suiteNames(summary);
  const colors = new Map(backends.map((b, i) => [b, PALETTE[i % PALETTE.length]!]));
  const runs = backends.map((name) => summary.backends.find((b) => b.name === name) ?? { name, class: '—', state: 'ran' as const, identity: {} });
  const t = summary.totals;
  const totalCount = t.pass + t.fail + t.error + t.skip;
  const verdictCls: Status = t.fail ? 'fail' : t.error ? 'error' : t.pass ? 'pass' : 'skip';
  const verdict = t.fail ? `${t.fail} conformance failure${t.fail === 1 ? '' : 's'}` : t.error ? `${t.error} infrastructure error${t.error === 1 ? '' : 's'}` : t.pass ? 'all cases passed' : 'nothing ran';
  const columnTotals = suites.map(() => ({ pass: 0, fail: 0, error: 0, skip: 0 }));
  const grand = { pass: 0, fail: 0, error: 0, skip: 0 };
  const matrix = backends.map((backend) => {
    const row = { pass: 0, fail: 0, error: 0, skip: 0 };
    const cells = suites.map((suite, i) => {
      const c = summary.matrix[backend]?.[suite];
      if (c) {
        addCounts(row, c);
        addCounts(columnTotals[i]!, c);
        addCounts(grand, c);
      }
      return cell(suite, c);
    });
    return { backend, color: colors.get(backend)!, cells, total: cell('all', row) };
  });
  const exactTwins = new Map<string, CaseResult>();
  for (const r of summary.results) if (r.sample && r.verdicts.some((v) => v.check === 'exact' && v.status === 'pass')) exactTwins.set(`${r.suite}\0${r.caseId}`, r);
  const cases = summary.results.map((r, i) => caseRow(r, i, summary, options, exactTwins));
  const problems: ProblemRow[] = [];
  const divergences: DivergenceRow[] = [];
  summary.results.forEach((r, i) => {
    const where = `${r.backend}/${r.suite}/${r.caseId}`;
    if (r.status === 'fail' || r.status === 'error') {
      const v = decisiveVerdict(r);
      problems.push({ anchor: cases[i]!.anchor, status: r.status, where, check: v?.check ?? '—', message: visibleText(v?.message ?? '') });
    }
    const d = divergenceOf(r);
    if (d)
      divergences.push({
        anchor: cases[i]!.anchor,
        where,
        index: d.index,
        kind: d.kind,
        cls: d.kind === 'near-tie' ? 'near-tie' : 'confident',
        golden: d.golden ? visibleToken(d.golden.token) : '—',
        got: d.got ? visibleToken(d.got.token) : '—',
        gap: d.gap !== undefined ? `${d.gap.toFixed(3)} nats` : '—',
        message: visibleText(d.verdict.message),
      });
  });
  const started = Date.parse(summary.startedAt);
  const finished = Date.parse(summary.finishedAt);
  return {
    title: `conform report · ${summary.runId}`,
    runId: summary.runId,
    conformVersion: summary.conformVersion,
    startedAt: summary.startedAt,
    finishedAt: summary.finishedAt,
    duration: Number.isFinite(started) && Number.isFinite(finished) ? formatMs(finished - started) : '—',
    verdict,
    verdictCls,
    totals: { ...t, total: totalCount },
    backends: runs.map((run) => backendRow(run, colors.get(run.name)!)),
    suites,
    matrix,
    matrixTotals: suites.map((s, i) => cell(s, columnTotals[i])),
    grandTotal: cell('all', grand),
    hasProblems: problems.length > 0,
    problems,
    hasDivergences: divergences.length > 0,
    divergences,
    charts: [ttftChart(summary.results, backends, colors), cdfChart(summary.results, backends, colors), coldStartChart(runs)],
    cases,
  };
}
