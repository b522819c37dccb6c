// Telemetry in every report: the Markdown table, the HTML section with its queue and KV plots, JUnit
// properties and the console lines, from a summary whose telemetry was derived by the real code, with
// hostile text where a config or a suite could put it.

import { describe, expect, it } from 'vitest';
import type { RequestRecord } from '../../src/core/telemetry-types.ts';
import type { RunSummary } from '../../src/core/types.ts';
import { createConsoleReporter } from '../../src/reporters/console-reporter.ts';
import { buildReportModel } from '../../src/reporters/html/build-report-model.ts';
import { renderHtmlReport } from '../../src/reporters/html-reporter.ts';
import { renderJunit } from '../../src/reporters/junit-reporter.ts';
import { renderMarkdown } from '../../src/reporters/markdown-reporter.ts';
import { deriveTelemetry } from '../../src/telemetry/derive-telemetry.ts';
import { parsePrometheusText } from '../../src/telemetry/metrics/prometheus-text.ts';
import { fixtureGoldens, fixtureSummary, HOSTILE } from './fixture-summary.ts';
import { elements, parseXml } from './xml.ts';

const T0 = Date.parse('2026-03-02T10:00:01.000Z');

function records(caseId: string): RequestRecord[] {
  return Array.from({ length: 6 }, (_, i) => ({ caseId, startMs: T0 + i * 1000, endMs: T0 + i * 1000 + 800, ok: true, streamed: true, ttftMs: 40, promptTokens: 120, completionTokens: 25, fingerprint: caseId }));
}

function scrape(t: number, deferred: number, kv: number) {
  return { t: T0 + t, parsed: parsePrometheusText(`llamacpp:requests_deferred ${deferred}\nllamacpp:requests_processing 1\nllamacpp:kv_cache_usage_ratio ${kv}\nllamacpp:prompt_tokens_cached_total 0\n`) };
}

function withTelemetry(): RunSummary {
  const summary = fixtureSummary();
  const [cpu, vulkan] = summary.backends;
  cpu!.telemetry = deriveTelemetry({
    concurrency: 1,
    start: T0,
    end: T0 + 6000,
    records: records(HOSTILE),
    cost: { perHour: 0.1, note: `example ${HOSTILE} | price` },
    energy: { requested: 'auto', source: 'none', series: [], samples: 0, reason: 'auto (class cpu) tried rapl: no /sys/class/powercap on this machine' },
    metrics: { url: 'http://127.0.0.1:1/metrics', intervalMs: 250, scrapes: [scrape(0, 0, 0), scrape(250, 2, 0.5), scrape(500, 1, 0.25), scrape(6000, 0, 0)] },
  });
  vulkan!.telemetry = deriveTelemetry({
    concurrency: 1,
    start: T0,
    end: T0 + 6000,
    records: records('v'),
    power: { pue: 1.5, pricePerKWh: 0.3 },
    energy: { requested: 'nvidia-smi', source: 'nvidia-smi', method: 'integrated-power', device: '1 GPU', series: [[T0, 0], [T0 + 6000, 300]], samples: 60 },
  });
  return summary;
}

describe('telemetry in the reports', () => {
  const summary = withTelemetry();

  it('markdown: a row per backend with prefill, decode, cost and energy, null energy with its reason, escaped', () => {
    const md = renderMarkdown(summary);
    const lines = md.split('\n');
    const at = lines.indexOf('### Throughput, cost and energy');
    expect(at).toBeGreaterThan(0);
    const cpu = lines[at + 4]!;
    expect(cpu).toMatch(/^\| \*\*cpu\*\* \| 1 \| 3,000 tok\/s \| 31\.6 tok\/s \| 181 tok\/s \| 0\.000153 USD; 0\.000889 USD per 1K output tokens \(example &lt;script&gt;/);
    expect(cpu).toContain('\\| price)');
    expect(cpu).toContain('null: auto (class cpu) tried rapl: no /sys/class/powercap on this machine');
    expect(cpu).toContain('llama.cpp, 4 scrapes: queue ≤ 2, running ≤ 1, KV ≤ 50 %, prefix-cache hits +0');
    expect(lines[at + 5]).toMatch(/^\| \*\*vulkan\*\* .*\| — \(no cost in the config\) \| 2 J\/token \(300 J over 150 output tokens, nvidia-smi: 1 GPU, energy 0\.00025 USD per 1K tokens at PUE 1\.5\)/);
    expect(md).not.toContain('<script>');
  });

  it('html: the section, the queue and KV plots as inline SVG, and nothing unescaped', () => {
    const model = buildReportModel(summary, { goldens: fixtureGoldens() });
    expect(model.hasTelemetry).toBe(true);
    expect(model.charts.map((c) => c.id)).toEqual(['chart-ttft', 'chart-cdf', 'chart-cold-start', 'chart-queue', 'chart-kv']);
    const queue = model.charts.find((c) => c.id === 'chart-queue')!;
    expect(queue.paths).toHaveLength(1);
    expect(queue.paths[0]!.d).toMatch(/^M60,200 L[\d.]+,[\d.]+ L/);
    expect(queue.legend[0]!.label).toBe('cpu: max 2 over 4 scrapes (llamacpp:requests_deferred)');
    const html = renderHtmlReport(summary, { goldens: fixtureGoldens() });
    expect(html).toContain('<section id="telemetry">');
    expect(html).toContain('<figure id="chart-kv">');
    expect(html).not.toContain('<script>window.__pwned');
    expect(html).toContain('example &lt;script&gt;window.__pwned&#x3D;1&lt;/script&gt;');
    // A record written before telemetry existed says so and plots nothing extra.
    expect(renderHtmlReport(fixtureSummary(), { goldens: fixtureGoldens() })).toContain('This run record has no telemetry');
  });

  it('junit: telemetry properties on every testsuite of the backend; a null figure is the word null with its reason', () => {
    const doc = parseXml(renderJunit(summary));
    const suite = elements(doc, 'testsuite').find((s) => s.attributes.name === 'cpu/smoke')!;
    const props = Object.fromEntries(elements(elements(suite, 'properties')[0]!, 'property').map((p) => [p.attributes.name, p.attributes.value]));
    expect(props['telemetry.prefillTokensPerSecond']).toBe('3000');
    expect(Number(props['telemetry.costPer1kTokens'])).toBeCloseTo(0.1 / (3.6 * 181.25), 12);
    expect(props['telemetry.joulesPerOutputToken']).toBe('null');
    expect(props['telemetry.energy.reason']).toMatch(/no \/sys\/class\/powercap/);
    expect(props['telemetry.cost.note']).toBe(`example ${HOSTILE.replace('\u0001', '')} | price`);
    expect(props['telemetry.metrics.queueWaitingMax']).toBe('2');
  });

  it('console: the figures per backend, after its identity', () => {
    const out: string[] = [];
    createConsoleReporter({ write: (l) => out.push(l), progress: false }).onRunEnd!(summary, '/tmp/run');
    const at = out.findIndex((l) => l.startsWith('cpu: '));
    expect(out.slice(at + 1, at + 7).join('\n')).toMatch(/throughput at concurrency 1, 5 steady requests \(the first left out\): prefill 3,000 tok\/s, decode 31\.6 tok\/s, 181 tok\/s in all\n {2}cost per 1K tokens: 0\.000153 USD.*\n {2}energy: null: auto \(class cpu\) tried rapl.*\n {2}engine metrics: llama\.cpp, 4 scrapes/);
  });
});
