// Turns a RunSummary into the plain data the HTML template renders: every label formatted, every chart
// laid out in SVG coordinates, every decision (status colours, which side diverged) taken here. The
// template only iterates and tests flags, so all escaping is Handlebars' `{{ }}` over plain strings.

import { firstDivergence, sameToken } from '../../assertions/tokens.ts';
import type { BackendRun, CaseResult, Counts, GoldenFile, RunSummary, Sample, Status, TokenStep, ToolCall, Verdict } from '../../core/types.ts';
import { cdfChart, coldStartChart, ttftChart } from './report-charts.ts';
import type { BackendRow, CaseRow, Chart, Chip, CountsCell, DivergenceRow, ProblemRow, ReportModel, ReportModelOptions, TokenDiff, ToolCallRow, ToolDiff, TopRow, VerdictRow } from './report-model-types.ts';
import { clip, decisiveVerdict, divergenceOf, formatLogprob, formatMs, formatProb, formatValue, MAX_SHOWN_MESSAGE, MAX_SHOWN_TEXT, MAX_SHOWN_TOKEN, partialNote, resumedNote, visibleText, visibleToken, type DivergenceInfo } from './report-text.ts';
import { telemetryCharts } from '../../telemetry/report/telemetry-charts.ts';
import { crossCheckLines, telemetryRows } from '../../telemetry/report/telemetry-text.ts';
import { extend } from '../../core/extend.ts';

export type { ReportModel, ReportModelOptions } from './report-model-types.ts';

const PALETTE = ['#2f6fb3', '#d9730d', '#2e8b57', '#b03a8c', '#7b61c9', '#8c6d1f', '#1f8a99', '#c0392b'];
const CHIP_LIMIT = 160;
const CHIPS_BEFORE_DIVERGENCE = 40;

const r1 = (n: number) => Math.round(n * 10) / 10;

// Every text from a sample or a server is clipped before it is made visible: escaping first would copy
// a huge body several times over (a control character becomes six), and the report shows excerpts anyway.
const shownText = (text: string) => visibleText(clip(text, MAX_SHOWN_TEXT));
const shownMessage = (text: string) => visibleText(clip(text, MAX_SHOWN_MESSAGE));
const shownToken = (token: string) => visibleToken(clip(token, MAX_SHOWN_TOKEN, false));
const rawToken = (token: string) => JSON.stringify(visibleText(clip(token, MAX_SHOWN_TOKEN, false)));
const shownName = (name: string | undefined) => (name === undefined ? undefined : clip(name, MAX_SHOWN_TOKEN));

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
    reason: shownMessage(run.reason ?? ''),
    engine: [shownName(id.engine), shownName(id.engineVersion)].filter(Boolean).join(' · ') || '—',
    device: [shownName(id.device), id.gpu && id.gpu !== id.device ? `(${shownName(id.gpu)})` : ''].filter(Boolean).join(' ') || '—',
    driver: shownName(id.driver) ?? '—',
    model: shownName(id.model) ?? '—',
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
  const found = exactTwins.get(`${result.suite}\0${result.caseId}`);
  const twin = found && wholeResult(found, options);
  if (twin?.sample) return { sample: twin.sample, label: `golden (= ${twin.backend}, exact)`, note };
  return { label: 'golden', note };
}

function chipsFor(steps: TokenStep[], from: number, to: number, divergenceAt: number, limitTo: number): Chip[] {
  const chips: Chip[] = [];
  for (let i = from; i < Math.min(to, limitTo); i++) {
    const step = steps[i]!;
    const cls: Chip['cls'] = divergenceAt < 0 || i < divergenceAt ? 'same' : i === divergenceAt ? 'div' : 'after';
    chips.push({ text: shownToken(step.token), title: `#${i} ${rawToken(step.token)}${step.logprob !== undefined ? ` logprob ${formatLogprob(step.logprob)}` : ''}`, cls });
  }
  return chips;
}

function topRows(step: TokenStep | undefined, golden: TokenStep | undefined, got: TokenStep | undefined): TopRow[] {
  if (!step) return [];
  return step.top.slice(0, 10).map((alt, i) => ({
    rank: i + 1,
    token: shownToken(alt.token),
    raw: rawToken(alt.token),
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
    base.gotText = shownText(sample.text);
    if (side.sample) base.goldenText = shownText(side.sample.text);
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
      base.goldenChoice = shownToken(goldenStep.token);
      base.gotChoice = shownToken(gotStep.token);
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
      goldenName: g ? shownToken(g.name) : '—',
      gotName: b ? shownToken(b.name) : '—',
      goldenArgs: g ? shownText(prettyArgs(g.arguments)) : '—',
      gotArgs: b ? shownText(prettyArgs(b.arguments)) : '—',
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

/**
 * Runs up to this many cases show every case in full. Past it, only failures, errors and divergences do, and
 * the rest are one line each: 10,000 cases in full made a 14 MB page that Chromium took 10 to 14 s to open.
 */
export const FULL_REPORT_CASES = 500;
/** The most cases shown in full in any run, so that a backend failing everything still gives a page that opens. */
export const MAX_FULL_CASES = 1000;

/** The result with its whole sample: one that `conform run` let go of is read back, where the reporter can. */
function wholeResult(result: CaseResult, options: ReportModelOptions): CaseResult {
  if (!result.sampleTrimmed) return result;
  const sample = options.loadSample?.(result);
  if (!sample) return result;
  const { sampleTrimmed: _trimmed, ...rest } = result;
  return extend(rest, { sample });
}

function caseRow(result: CaseResult, index: number, summary: RunSummary, options: ReportModelOptions, exactTwins: Map<string, CaseResult>, full: boolean): CaseRow {
  const divergence = divergenceOf(result);
  const sample = result.sample;
  const decisive = decisiveVerdict(result);
  const journalLine = result.sampleLine !== undefined ? `samples.jsonl line ${result.sampleLine}` : '';
  const anchor = anchorFor(result, index);
  const { backend, suite, caseId, status } = result;
  const headline = decisive ? `[${decisive.check}] ${shownMessage(decisive.message)}` : '';
  const ttft = formatMs(sample?.timings.firstTokenMs);
  const e2e = formatMs(sample?.timings.endMs);
  // Literals, not { ...head, ...body }: spreads with more properties after them leave V8's fast path,
  // which cost 30 µs a row, most of report.html's time at 10,000 cases (src/core/extend.ts).
  if (!full) {
    return {
      journalLine, anchor, backend, suite, caseId, status, headline, ttft, e2e, compact: true, open: false,
      finishReason: '', tokenCount: '', verdicts: [], diff: null, tools: null, hasText: false, text: '', hasReasoning: false, reasoning: '', error: '', deviations: '',
    };
  }
  const side = resolveGolden(result, summary, options, exactTwins, divergence);
  return {
    journalLine, anchor, backend, suite, caseId, status, headline, ttft, e2e,
    compact: false,
    open: result.status === 'fail' || result.status === 'error' || divergence !== undefined,
    finishReason: sample?.finishReason ?? '—',
    tokenCount: sample ? String(sample.tokens.length || sample.usage?.completionTokens || 0) : '—',
    verdicts: result.verdicts.map((v) => ({ check: v.check, status: v.status, measured: formatValue(v.measured), threshold: formatValue(v.threshold), message: shownMessage(v.message) })),
    diff: tokenDiff(result, side, divergence),
    tools: toolDiff(result, side),
    hasText: Boolean(sample && sample.text),
    text: sample ? shownText(sample.text) : '',
    hasReasoning: Boolean(sample?.reasoning),
    reasoning: shownText(sample?.reasoning ?? ''),
    error: sample?.error ? shownMessage(`${sample.kind}${sample.error.status ? ` ${sample.error.status}` : ''}: ${sample.error.message}`) : '',
    deviations: sample?.deviations.length ? shownMessage(sample.deviations.join(', ')) : '',
  };
}

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
  const everyCase = summary.results.length <= FULL_REPORT_CASES;
  let fullLeft = MAX_FULL_CASES;
  const cases = summary.results.map((r, i) => {
    const wanted = everyCase || r.status === 'fail' || r.status === 'error' || divergenceOf(r) !== undefined;
    const full = wanted && fullLeft-- > 0;
    return caseRow(full ? wholeResult(r, options) : r, i, summary, options, exactTwins, full);
  });
  const compactCount = cases.filter((c) => c.compact).length;
  const problems: ProblemRow[] = [];
  const divergences: DivergenceRow[] = [];
  summary.results.forEach((r, i) => {
    const where = `${r.backend}/${r.suite}/${r.caseId}`;
    if (r.status === 'fail' || r.status === 'error') {
      const v = decisiveVerdict(r);
      problems.push({ anchor: cases[i]!.anchor, status: r.status, where, check: v?.check ?? '—', message: shownMessage(v?.message ?? '') });
    }
    const d = divergenceOf(r);
    if (d)
      divergences.push({
        anchor: cases[i]!.anchor,
        where,
        index: d.index,
        kind: d.kind,
        cls: d.kind === 'near-tie' ? 'near-tie' : 'confident',
        golden: d.golden ? shownToken(d.golden.token) : '—',
        got: d.got ? shownToken(d.got.token) : '—',
        gap: d.gap !== undefined ? `${d.gap.toFixed(3)} nats` : '—',
        message: shownMessage(d.verdict.message),
      });
  });
  const started = Date.parse(summary.startedAt);
  const finished = Date.parse(summary.finishedAt);
  const telemetry = telemetryRows(summary);
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
    partialNote: partialNote(summary),
    resumedNote: resumedNote(summary),
    totalPills: (['pass', 'fail', 'error', 'skip'] as const).map((k) => ({ cls: t[k] ? k : 'empty', text: `${t[k]} ${{ pass: 'passed', fail: 'failed', error: 'errors', skip: 'skipped' }[k]}` })),
    backends: runs.map((run) => backendRow(run, colors.get(run.name)!)),
    suites,
    matrix,
    matrixTotals: suites.map((s, i) => cell(s, columnTotals[i])),
    grandTotal: cell('all', grand),
    hasProblems: problems.length > 0,
    problems,
    hasDivergences: divergences.length > 0,
    divergences,
    // Telemetry plots only for records that carry telemetry; older ones say so in their section.
    charts: [ttftChart(summary.results, backends, colors), cdfChart(summary.results, backends, colors), coldStartChart(runs), ...(telemetry.length ? telemetryCharts(summary, colors) : [])],
    cases,
    casesNote:
      compactCount === 0
        ? 'Failures, errors and divergences are expanded; click any row to show its verdicts, golden diff and output.'
        : `${compactCount.toLocaleString('en-US')} of ${cases.length.toLocaleString('en-US')} cases are one line each, so that a page this big still opens quickly: failures, errors and divergences are shown in full${cases.length - compactCount >= MAX_FULL_CASES ? ` (the first ${MAX_FULL_CASES.toLocaleString('en-US')})` : ''}; each line names where samples.jsonl holds the sample, and "conform report" renders a folder again.`,
    hasTelemetry: telemetry.length > 0,
    telemetry,
    crossChecks: crossCheckLines(summary),
  };
}
