// Telemetry figures as the reporters show them: one row per backend for tables, lines for the console,
// properties for JUnit. Pure; the reporters escape for their own format.

import type { BackendTelemetry, CostFigures, EnergyFigures, EngineMetrics } from '../../core/telemetry-types.ts';
import type { BackendRun, RunSummary } from '../../core/types.ts';

/** A number with thousands separators and at most `digits` decimals. */
function grouped(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** Tokens per second: whole numbers from 100 up, 3 significant digits below. */
export function formatRate(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return `${n >= 100 ? grouped(n) : Number(n.toPrecision(3))} tok/s`;
}

/** A small amount of money with 3 significant digits, never rounded to zero: "0.0000131 USD". */
export function formatMoney(n: number | null | undefined, currency: string): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  if (n === 0) return `0 ${currency}`;
  const text = n >= 1000 ? grouped(n, 2) : Number(n.toPrecision(3)).toString();
  // toString switches to exponents below 1e-6; money reads better spelled out.
  return `${/e-/.test(text) ? n.toFixed(Math.min(20, 2 - Math.floor(Math.log10(n)))) : text} ${currency}`;
}

function formatJoules(n: number): string {
  return n >= 1000 ? `${grouped(n / 1000, 2)} kJ` : `${Number(n.toPrecision(3))} J`;
}

const percent = (n: number | undefined) => (n === undefined ? undefined : `${Number((n * 100).toPrecision(3))} %`);

/** "1", or "1 (up to 8 in flight)" where a suite sent more at once than the configured concurrency. */
export function concurrencyText(t: BackendTelemetry): string {
  return t.throughput.maxInFlight > t.concurrency ? `${t.concurrency} (up to ${t.throughput.maxInFlight} in flight)` : String(t.concurrency);
}

/** Cost per 1K tokens with its currency and note, or the reason there is none. */
export function costText(cost: CostFigures | undefined): string {
  if (!cost) return '— (no cost in the config)';
  if (cost.per1kTokens === null) return `— (${cost.reason ?? 'not measurable'})`;
  const output = cost.per1kOutputTokens !== null ? `; ${formatMoney(cost.per1kOutputTokens, cost.currency)} per 1K output tokens` : '';
  return `${formatMoney(cost.per1kTokens, cost.currency)}${output}${cost.note ? ` (${cost.note})` : ''}`;
}

/** Joules per output token and what measured them, or null's reason: never a 0 that was not measured. */
export function energyText(energy: EnergyFigures): string {
  if (energy.joules === null) return `null: ${energy.reason ?? 'not measured'}`;
  const perToken = energy.joulesPerOutputToken === null ? '— J/token' : `${Number(energy.joulesPerOutputToken.toPrecision(3))} J/token`;
  const cost = energy.energyCostPer1kTokens != null && energy.currency ? `, energy ${formatMoney(energy.energyCostPer1kTokens, energy.currency)} per 1K tokens at PUE ${energy.pue}` : '';
  return `${perToken} (${formatJoules(energy.joules)} over ${grouped(energy.outputTokens)} output tokens, ${energy.source}${energy.device ? `: ${energy.device}` : ''}${cost})${energy.reason ? `; ${energy.reason}` : ''}`;
}

/** What the engine reported, in one line. */
export function metricsText(metrics: EngineMetrics | undefined): string {
  if (!metrics) return '— (not scraped)';
  const s = metrics.summary;
  const parts = [
    s.queueWaitingMax !== undefined && `queue ≤ ${s.queueWaitingMax}`,
    s.runningMax !== undefined && `running ≤ ${s.runningMax}`,
    s.kvCacheUsageMax !== undefined && `KV ≤ ${percent(s.kvCacheUsageMax)}`,
    s.prefixCacheHits !== undefined && `prefix-cache hits +${grouped(s.prefixCacheHits)}${s.prefixCacheQueries ? ` of ${grouped(s.prefixCacheQueries)} tokens` : ''}`,
    s.prefixCacheHitRate !== undefined && `prefix-cache hit rate ${percent(s.prefixCacheHitRate)}`,
    s.ttftMeanMs !== undefined && `engine TTFT mean ${Number(s.ttftMeanMs.toPrecision(3))} ms over ${s.ttftCount}`,
  ].filter(Boolean);
  const head = `${metrics.family ?? 'unrecognised'}, ${metrics.scrapes} scrape${metrics.scrapes === 1 ? '' : 's'}${metrics.failedScrapes ? ` (${metrics.failedScrapes} failed)` : ''}`;
  return `${head}${parts.length ? `: ${parts.join(', ')}` : ''}${metrics.reason ? `; ${metrics.reason}` : ''}`;
}

export interface TelemetryRow {
  backend: string;
  concurrency: string;
  prefill: string;
  decode: string;
  tokensPerSecond: string;
  cost: string;
  energy: string;
  metrics: string;
  /** Why a throughput figure is missing. */
  note: string;
}

/** One row per backend that has telemetry, in the summary's order. */
export function telemetryRows(summary: RunSummary): TelemetryRow[] {
  return summary.backends.flatMap((run) => {
    const t = run.telemetry;
    if (!t) return [];
    return [
      {
        backend: run.name,
        concurrency: concurrencyText(t),
        prefill: formatRate(t.throughput.prefillTokensPerSecond),
        decode: formatRate(t.throughput.decodeTokensPerSecond),
        tokensPerSecond: formatRate(t.throughput.tokensPerSecond),
        cost: costText(t.cost),
        energy: energyText(t.energy),
        metrics: metricsText(t.metrics),
        note: t.throughput.reason ?? '',
      },
    ];
  });
}

/** Every cross-check of every backend that is worth a line: flagged ones first. */
export function crossCheckLines(summary: RunSummary): Array<{ backend: string; status: string; message: string }> {
  const lines = summary.backends.flatMap((run) => (run.telemetry?.crossChecks ?? []).map((c) => ({ backend: run.name, status: c.status, message: `${c.check}: ${c.message}` })));
  return lines.sort((a, b) => Number(b.status === 'flagged') - Number(a.status === 'flagged'));
}

/** The console's lines for one backend. */
export function telemetryLines(run: BackendRun): string[] {
  const t = run.telemetry;
  if (!t) return [];
  const th = t.throughput;
  return [
    `throughput at concurrency ${concurrencyText(t)}, ${th.requests} steady requests (the first left out): prefill ${formatRate(th.prefillTokensPerSecond)}, decode ${formatRate(th.decodeTokensPerSecond)}, ${formatRate(th.tokensPerSecond)} in all${th.reason ? ` (${th.reason})` : ''}`,
    `cost per 1K tokens: ${costText(t.cost)}`,
    `energy: ${energyText(t.energy)}`,
    `engine metrics: ${metricsText(t.metrics)}`,
    ...t.crossChecks.filter((c) => c.status === 'flagged').map((c) => `cross-check ${c.check}: ${c.message}`),
  ];
}

/** JUnit properties for a backend's telemetry: figures as numbers, null ones with their reason. */
export function telemetryProperties(run: BackendRun | undefined): Array<[string, unknown]> {
  const t = run?.telemetry;
  if (!t) return [];
  const entries: Array<[string, unknown]> = [
    ['telemetry.concurrency', t.concurrency],
    ['telemetry.maxInFlight', t.throughput.maxInFlight],
    ['telemetry.prefillTokensPerSecond', t.throughput.prefillTokensPerSecond ?? 'null'],
    ['telemetry.decodeTokensPerSecond', t.throughput.decodeTokensPerSecond ?? 'null'],
    ['telemetry.tokensPerSecond', t.throughput.tokensPerSecond ?? 'null'],
    ['telemetry.throughput.reason', t.throughput.reason],
  ];
  if (t.cost)
    entries.push(['telemetry.costPer1kTokens', t.cost.per1kTokens ?? 'null'], ['telemetry.costPer1kOutputTokens', t.cost.per1kOutputTokens ?? 'null'], ['telemetry.cost.currency', t.cost.currency], ['telemetry.cost.note', t.cost.note], ['telemetry.cost.reason', t.cost.reason]);
  entries.push(
    ['telemetry.energy.source', t.energy.source],
    ['telemetry.energy.joules', t.energy.joules ?? 'null'],
    ['telemetry.joulesPerOutputToken', t.energy.joulesPerOutputToken ?? 'null'],
    ['telemetry.energy.reason', t.energy.reason],
  );
  if (t.energy.energyCostPer1kTokens !== undefined) entries.push(['telemetry.energyCostPer1kTokens', t.energy.energyCostPer1kTokens ?? 'null']);
  if (t.metrics) {
    entries.push(['telemetry.metrics.family', t.metrics.family ?? 'null'], ['telemetry.metrics.scrapes', t.metrics.scrapes], ['telemetry.metrics.reason', t.metrics.reason]);
    for (const [key, value] of Object.entries(t.metrics.summary)) entries.push([`telemetry.metrics.${key}`, value]);
  }
  // Several cases can have a prefix-cache line; property names stay unique.
  const seen = new Map<string, number>();
  for (const c of t.crossChecks) {
    const n = (seen.get(c.check) ?? 0) + 1;
    seen.set(c.check, n);
    entries.push([`telemetry.crossCheck.${c.check}${n > 1 ? `.${n}` : ''}`, `${c.status}: ${c.message}`]);
  }
  return entries;
}

/** The Markdown section for summary.md: the figures table and the cross-checks, or nothing without telemetry. */
export function telemetryMarkdown(summary: RunSummary, escape: (text: string) => string): string[] {
  const rows = telemetryRows(summary);
  if (rows.length === 0) return [];
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const out = [
    '',
    '### Throughput, cost and energy',
    '',
    row(['backend', 'concurrency', 'prefill', 'decode', 'tokens/s', 'cost per 1K tokens', 'energy per output token', 'engine metrics']),
    row(['---', '---:', '---:', '---:', '---:', '---', '---', '---']),
    ...rows.map((r) => row([`**${escape(r.backend)}**`, escape(r.concurrency), escape(r.prefill), escape(r.decode), escape(r.tokensPerSecond), escape(r.cost), escape(r.energy), escape(r.metrics)])),
    '',
    '<sub>Tokens/s from the steady-state requests (every successful one but the first), prefill over client TTFT and decode over the rest, at the concurrency shown; cost per 1K = cost per hour ÷ (3.6 × tokens/s).</sub>',
  ];
  const notes = rows.filter((r) => r.note).map((r) => `- ${escape(r.backend)}: ${escape(r.note)}`);
  if (notes.length) out.push('', ...notes);
  const checks = crossCheckLines(summary);
  if (checks.length) out.push('', '#### Engine cross-checks', '', ...checks.map((c) => `- ${c.status === 'flagged' ? '⚠️' : c.status === 'agrees' ? '✅' : '➖'} ${escape(c.backend)}: ${escape(c.message)}`));
  return out;
}
