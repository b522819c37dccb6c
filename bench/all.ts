// Benchmark, not a test: every figure of issue 11's performance table, each as a ratio against a baseline
// measured in the same run.
//
//   npm run bench     (or: npx tsx bench/all.ts)
//
// Runs, one after the other, each in its own process with its own output: bench/startup.ts, bench/scale.ts
// (non-streamed, then streamed at 200 and 10,000 cases), bench/ceiling.ts, bench/promptfoo.ts (side by side with promptfoo where it is installed, else against the
// issue's 6.5 s) and bench/ttft-accuracy.ts; each writes reports/bench-<name>.json, and this prints one table
// from those files: figure | measured | baseline | ratio | goal | met?, with the load average at the start
// and at the end (the machine is shared: read a figure next to the load it was measured under).
//
// Environment: BENCH_SIZES (the scale sizes, default 200,2000,10000), BENCH_BIN (another checkout's
// bin/conform.js, timed beside this one by startup and scale, shown in the table's last column), BENCH_SKIP
// (comma-separated names of benches not to run, e.g. promptfoo,ttft; their rows read the JSON of an earlier
// run if there is one). Per-bench settings such as BENCH_N mean different things in each, so they are not
// passed on: run a bench on its own (npm run bench:<name>) to change them.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { root } from './conform-run.ts';
import type { CeilingMode, CeilingReport } from './ceiling.ts';
import type { PromptfooReport } from './promptfoo.ts';
import type { ScaleReport, ScaleRow } from './scale.ts';

const BENCHES = [
  { name: 'startup', file: 'startup.ts' },
  { name: 'scale', file: 'scale.ts' },
  // The same run streamed: its report has a TTFT chart, which the non-streamed run's never draws.
  { name: 'scale-streamed', file: 'scale.ts', env: { BENCH_STREAM: '1', BENCH_SIZES: process.env.BENCH_SIZES ?? '200,10000' } },
  { name: 'ceiling', file: 'ceiling.ts' },
  { name: 'promptfoo', file: 'promptfoo.ts' },
  { name: 'ttft', file: 'ttft-accuracy.ts', out: 'ttft-accuracy' },
] as const;

/** How flat "flat in the number of cases" is taken to be: peak RSS at the largest size over the smallest. */
const RSS_FLAT = 1.2;

const outOf = (name: string) => join(root, 'reports', `bench-${name}.json`);
const skip = new Set((process.env.BENCH_SKIP ?? '').split(',').map((s) => s.trim()).filter(Boolean));
const started = Date.now();
const loadStart = os.loadavg();
const status = new Map<string, string>();

for (const bench of BENCHES) {
  if (skip.has(bench.name)) {
    status.set(bench.name, 'skipped');
    continue;
  }
  const env: NodeJS.ProcessEnv = { ...process.env, ...('env' in bench ? bench.env : {}), BENCH_OUT: outOf('out' in bench ? bench.out : bench.name) };
  delete env.BENCH_N;
  if (process.env.BENCH_BIN) env.BENCH_OTHER_BIN = process.env.BENCH_BIN;
  process.stdout.write(`\n━━ bench/${bench.file} ━━\n`);
  const t0 = Date.now();
  const result = spawnSync(process.execPath, [...process.execArgv, join(root, 'bench', bench.file)], { cwd: root, env, stdio: 'inherit' });
  status.set(bench.name, result.status === 0 ? `ran in ${((Date.now() - t0) / 1000).toFixed(0)} s` : `failed (exit ${result.status ?? result.signal})`);
}

/** A bench's JSON, if it ran now or earlier; stale files (from before this run) are marked. */
function read<T>(name: string): { data: T; stale: boolean } | undefined {
  const file = outOf(name);
  if (!existsSync(file)) return undefined;
  return { data: JSON.parse(readFileSync(file, 'utf8')) as T, stale: statSync(file).mtimeMs < started };
}

interface StartupRow {
  variant: string;
  medianS: number;
}
interface TtftReport {
  answer: boolean;
  thresholdMs: number;
  worstRunnerP99Ms: number;
  p50OverheadMs: number | null;
  rows: Array<{ delayMs: number | 'all'; client: 'runner' | 'bare'; errorVsTruthMs: { p50: number | null } }>;
}

interface Row {
  figure: string;
  measured: string;
  baseline: string;
  ratio: number | null;
  goal: string;
  met: boolean | null;
  other?: string;
  stale?: boolean;
}

const rows: Row[] = [];
const s = (v: number | null | undefined, unit: string, digits = 2) => (v === null || v === undefined || Number.isNaN(v) ? '—' : `${v.toFixed(digits)}${unit}`);
const div = (a: number | null | undefined, b: number | null | undefined) => (a === null || a === undefined || b === null || b === undefined || b === 0 ? null : a / b);
const missing = (figure: string, goal: string, why: string): Row => ({ figure, measured: why, baseline: '—', ratio: null, goal, met: null });

const startup = read<{ rows: StartupRow[] }>('startup');
if (startup) {
  const at = (variant: string) => startup.data.rows.find((r) => r.variant === variant)?.medianS;
  const node = at('node -e 0');
  for (const [variant, other] of [
    ['conform --version', 'other --version'],
    ['conform --help', 'other --help'],
    ['conform run --help', 'other run --help'],
  ] as const) {
    const v = at(variant);
    rows.push({ figure: `\`${variant}\` wall`, measured: s(v, ' s', 3), baseline: `node -e 0 ${s(node, ' s', 3)}`, ratio: div(v, node), goal: '< 0.3 s', met: v === undefined ? null : v < 0.3, other: other && at(other) !== undefined ? s(at(other), ' s', 3) : undefined, stale: startup.stale });
  }
} else rows.push(missing('`conform --version` / `--help` wall', '< 0.3 s', 'not run'));

const promptfoo = read<PromptfooReport>('promptfoo');
if (promptfoo) {
  const p = promptfoo.data;
  rows.push({
    figure: `${p.cases} cases: wall vs promptfoo`,
    measured: s(p.conformMedianS, ' s'),
    baseline: p.baseline === 'measured' ? `promptfoo ${p.promptfooVersion} ${s(p.promptfooMedianS, ' s')}` : `issue's anchor ${s(p.promptfooMedianS, ' s', 1)}`,
    ratio: p.ratio,
    goal: '≤ 0.3×',
    met: p.ratio <= 0.3,
    stale: promptfoo.stale,
  });
} else rows.push(missing('200 cases: wall vs promptfoo', '≤ 0.3×', 'not run'));

const scale = read<ScaleReport>('scale');
const ceiling = read<CeilingReport>('ceiling');

/** The smallest and largest size of a scale run by this build, and a reader of the other build's rows. */
function sizesOf(report: { data: ScaleReport }) {
  const mine = report.data.rows.filter((r) => r.build === 'this');
  const otherAt = (cases: number, pick: (r: ScaleRow) => string) => {
    const row = report.data.rows.find((r) => r.build === 'other' && r.cases === cases);
    return row ? pick(row) : undefined;
  };
  return { small: mine[0], large: mine.at(-1), otherAt };
}

function cpuPerCaseRow(figure: string, large: ScaleRow, mode: CeilingMode | undefined, other: string | undefined, stale: boolean): Row {
  return {
    figure,
    measured: s(large.cpuMsPerCase, ' ms', 3),
    baseline: mode ? `bare undici ${s(mode.undiciCpuMsPerRequest, ' ms', 3)}/req` : 'ceiling not run',
    ratio: div(large.cpuMsPerCase, mode?.undiciCpuMsPerRequest),
    goal: '≤ 0.3 ms',
    met: large.cpuMsPerCase <= 0.3,
    other,
    stale,
  };
}

function reportOpenRow(figure: string, small: ScaleRow, large: ScaleRow, other: string | undefined, stale: boolean): Row {
  return {
    figure,
    measured: large.reportOpen ? `${s(large.reportOpen.loadMs, ' ms', 0)} (${s(large.bytes.reportHtml === null ? null : large.bytes.reportHtml / 2 ** 20, ' MiB', 1)})` : 'not measured',
    baseline: small.reportOpen ? `${small.cases} cases ${s(small.reportOpen.loadMs, ' ms', 0)}` : '—',
    ratio: div(large.reportOpen?.loadMs, small.reportOpen?.loadMs),
    goal: '< 2 s in Chromium',
    met: large.reportOpen ? large.reportOpen.loadMs < 2000 : null,
    other,
    stale,
  };
}

const ceilingMode = (stream: boolean) => ceiling?.data.modes.find((m) => m.stream === stream);

if (scale) {
  const { small, large, otherAt } = sizesOf(scale);
  const stale = scale.stale;
  if (small && large) {
    const n = large.cases.toLocaleString('en-US');
    rows.push({ figure: `${n} cases: wall`, measured: s(large.wallS, ' s'), baseline: `node -e 0 ${s(scale.data.baseline.nodeE0WallS, ' s', 3)}`, ratio: div(large.wallS, scale.data.baseline.nodeE0WallS), goal: '—', met: null, other: otherAt(large.cases, (r) => s(r.wallS, ' s')), stale });
    const rssRatio = div(large.peakRssMb, small.peakRssMb);
    rows.push({
      figure: `${n} cases: peak RSS`,
      measured: s(large.peakRssMb, ' MB', 0),
      baseline: `${small.cases} cases ${s(small.peakRssMb, ' MB', 0)}`,
      ratio: rssRatio,
      goal: `≤ 300 MB, flat (≤ ${RSS_FLAT}×)`,
      met: large.peakRssMb <= 300 && rssRatio !== null && rssRatio <= RSS_FLAT,
      other: otherAt(large.cases, (r) => s(r.peakRssMb, ' MB', 0)),
      stale,
    });
    rows.push(cpuPerCaseRow(`${n} cases: CPU per case`, large, ceilingMode(false), otherAt(large.cases, (r) => s(r.cpuMsPerCase, ' ms', 3)), stale));
    const summaryShare = div(large.bytes.summaryJson, large.bytes.samplesJsonl);
    rows.push({
      figure: `${n} cases: summary.json`,
      measured: `${s(large.bytes.summaryJson === null ? null : large.bytes.summaryJson / 1024, ' KiB', 0)}, ${large.summarySampleCopies ?? '?'} sample copies`,
      baseline: `samples.jsonl ${s(large.bytes.samplesJsonl === null ? null : large.bytes.samplesJsonl / 1024, ' KiB', 0)}`,
      ratio: summaryShare,
      // The issue's "a summary, not a copy of the samples": no sample in it. Its size against the journal's is
      // shown, not judged: with 16-token samples the verdicts alone are about half the journal.
      goal: 'a summary (no sample copies)',
      met: large.summarySampleCopies === 0,
      other: otherAt(large.cases, (r) => s(r.bytes.summaryJson === null ? null : r.bytes.summaryJson / 1024, ' KiB', 0)),
      stale,
    });
    rows.push(reportOpenRow(`${n} cases: report.html opens`, small, large, otherAt(large.cases, (r) => s(r.reportOpen?.loadMs, ' ms', 0)), stale));
  }
} else rows.push(missing('10,000 cases: RSS, CPU, summary.json, report.html', '—', 'not run'));

const streamedScale = read<ScaleReport>('scale-streamed');
if (streamedScale) {
  const { small, large, otherAt } = sizesOf(streamedScale);
  if (small && large) {
    const n = large.cases.toLocaleString('en-US');
    rows.push(cpuPerCaseRow(`${n} streamed cases: CPU per case`, large, ceilingMode(true), otherAt(large.cases, (r) => s(r.cpuMsPerCase, ' ms', 3)), streamedScale.stale));
    rows.push(reportOpenRow(`${n} streamed cases: report.html opens`, small, large, otherAt(large.cases, (r) => s(r.reportOpen?.loadMs, ' ms', 0)), streamedScale.stale));
  }
} else rows.push(missing('10,000 streamed cases: CPU, report.html', '—', 'not run'));

if (ceiling) {
  for (const m of ceiling.data.modes) {
    const mode = m.stream ? 'streamed' : 'non-streamed';
    rows.push({ figure: `req/s while sending, ${mode}`, measured: s(m.medians.conform, '/s', 0), baseline: `autocannon ${s(m.medians.autocannon, '/s', 0)}`, ratio: m.conformOverAutocannon, goal: '≥ 0.8×', met: m.conformOverAutocannon >= 0.8, stale: ceiling.stale });
    rows.push({ figure: `req/s while sending, ${mode}`, measured: s(m.medians.conform, '/s', 0), baseline: `bare undici ${s(m.medians.undici, '/s', 0)}`, ratio: m.conformOverUndici, goal: '—', met: null, stale: ceiling.stale });
  }
} else rows.push(missing('req/s while sending', '≥ 0.8×', 'not run'));

const ttft = read<TtftReport>('ttft-accuracy');
if (ttft) {
  const all = (client: 'runner' | 'bare') => ttft.data.rows.find((r) => r.delayMs === 'all' && r.client === client)?.errorVsTruthMs.p50 ?? null;
  rows.push({
    figure: 'TTFT error p50 (overhead)',
    measured: `${s(all('runner'), ' ms', 3)} (${ttft.data.p50OverheadMs !== null && ttft.data.p50OverheadMs >= 0 ? '+' : ''}${s(ttft.data.p50OverheadMs, ' ms', 3)})`,
    baseline: `bare undici ${s(all('bare'), ' ms', 3)}`,
    ratio: div(all('runner'), all('bare')),
    goal: `p99 ≤ ${ttft.data.thresholdMs} ms of truth`,
    met: ttft.data.answer,
    stale: ttft.stale,
  });
} else rows.push(missing('TTFT error p50 (overhead)', '—', 'not run'));

const withOther = rows.some((r) => r.other !== undefined);
const columns = ['figure', 'measured', 'baseline', 'ratio', 'goal', 'met?', ...(withOther ? ['BENCH_BIN'] : [])];
const cells = rows.map((r) => [
  `${r.figure}${r.stale ? ' (earlier run)' : ''}`,
  r.measured,
  r.baseline,
  r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`,
  r.goal,
  r.met === null ? '—' : r.met ? 'yes' : 'NO',
  ...(withOther ? [r.other ?? ''] : []),
]);
const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
const line = (values: string[]) => `| ${values.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
process.stdout.write(`\n━━ issue 11: performance ━━\n`);
process.stdout.write(`${[...status].map(([name, what]) => `${name}: ${what}`).join('; ')}\n\n`);
process.stdout.write(`${line(columns)}\n| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |\n${cells.map(line).join('\n')}\n\n`);
process.stdout.write(
  `load average (1, 5, 15 min) at the start ${loadStart.map((l) => l.toFixed(2)).join(' ')}, at the end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}, on ${os.cpus().length} cores; ${((Date.now() - started) / 1000).toFixed(0)} s in all\n`,
);
if ([...status.values()].some((v) => v.startsWith('failed'))) process.exitCode = 1;
