import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countMatrix } from '../../src/core/outcome.ts';
import type { RunSummary } from '../../src/core/types.ts';
import { anchorFor, buildReportModel, FULL_REPORT_CASES } from '../../src/reporters/html/build-report-model.ts';
import { createHtmlReporter, renderHtmlReport } from '../../src/reporters/html-reporter.ts';
import { renderJunit } from '../../src/reporters/junit-reporter.ts';
import { launchChromium, openFile, type LoadedPage } from './browser.ts';
import { fixtureGoldens, fixtureSummary, HOSTILE, maskVolatile } from './fixture-summary.ts';

function writeReport(summary: RunSummary, goldens = fixtureGoldens()): string {
  const dir = mkdtempSync(join(tmpdir(), 'conform-html-'));
  createHtmlReporter({ goldens }).onRunEnd!(summary, dir);
  return join(dir, 'report.html');
}

const anchorOf = (summary: RunSummary, backend: string, caseId: string) => {
  const index = summary.results.findIndex((r) => r.backend === backend && r.caseId === caseId);
  return `#${anchorFor(summary.results[index]!, index)}`;
};

describe('html report: the model', () => {
  it('is plain data: every chart laid out, no functions, safe to serialise', () => {
    const model = buildReportModel(fixtureSummary(), { goldens: fixtureGoldens() });
    expect(JSON.parse(JSON.stringify(model))).toEqual(model);
    expect(model.charts.map((c) => c.id)).toEqual(['chart-ttft', 'chart-cdf', 'chart-cold-start']);
  });

  it('takes golden from golden files recorded before the run, else from the exact-matching reference sample, else from the record', () => {
    const summary = fixtureSummary();
    const hello = (source: RunSummary, goldens?: ReturnType<typeof fixtureGoldens>) =>
      buildReportModel(source, { goldens }).cases.find((c) => c.backend === 'vulkan' && c.caseId === 'chat-hello')!.diff!;
    expect(hello(summary, fixtureGoldens())).toMatchObject({ goldenLabel: 'golden (cpu)', notes: [] });
    expect(hello(summary, fixtureGoldens()).golden).toHaveLength(11);
    // cpu's exact check passed, so its sample is golden, token for token.
    expect(hello(summary).goldenLabel).toBe('golden (= cpu, exact)');
    expect(hello(summary).golden).toHaveLength(11);
    // Without the reference backend in the run, only the record's divergent step is known.
    const vulkanOnly = { ...summary, results: summary.results.filter((r) => r.backend === 'vulkan') };
    expect(hello(vulkanOnly).golden.map((c) => c.text)).toEqual(['<script>', 'window', '.__pwned', '=1']);
    expect(hello(vulkanOnly).notes.join(' ')).toContain('keeps golden only up to the divergence');
    // A golden file re-recorded after the run is not what the run compared against.
    const later = hello(vulkanOnly, fixtureGoldens('2026-03-03T00:00:00.000Z'));
    expect(later.golden).toHaveLength(4);
    expect(later.notes.join(' ')).toContain('re-recorded after this run');
  });

  it('colours a count pill by its status only when the count is not zero', () => {
    const summary = fixtureSummary();
    const clean = { ...summary, totals: { pass: 3, fail: 0, error: 0, skip: 1 } };
    expect(buildReportModel(clean).totalPills).toEqual([
      { cls: 'pass', text: '3 passed' },
      { cls: 'empty', text: '0 failed' },
      { cls: 'empty', text: '0 errors' },
      { cls: 'skip', text: '1 skipped' },
    ]);
    const html = renderHtmlReport(clean);
    expect(html).toContain('<span class="pill empty">0 failed</span>');
    expect(html).not.toMatch(/class="pill fail">0 failed/);
    expect(renderHtmlReport(summary)).toMatch(new RegExp(`class="pill fail">${summary.totals.fail} failed`));
  });

  it('renders the same bytes for runs that differ only in volatile fields', () => {
    const other = fixtureSummary();
    other.runId = '20991231T235959Z-ffffff';
    other.startedAt = '2099-12-31T23:59:59.000Z';
    expect(renderHtmlReport(maskVolatile(other))).toBe(renderHtmlReport(maskVolatile(fixtureSummary())));
  });
});

describe('html report in headless Chromium', () => {
  let browser: Browser;
  const summary = fixtureSummary();
  let loaded: LoadedPage;

  beforeAll(async () => {
    browser = await launchChromium();
    loaded = await openFile(browser, writeReport(summary));
  }, 60_000);

  afterAll(async () => {
    await loaded?.close();
    await browser?.close();
  });

  it('loads with no console errors, no page errors and no request but the file itself', () => {
    expect(loaded.consoleErrors).toEqual([]);
    expect(loaded.pageErrors).toEqual([]);
    expect(loaded.requests).toEqual([loaded.url]);
  });

  it('never runs model output: no script element, window.__pwned undefined, the payload shown as text', async () => {
    const { page } = loaded;
    expect(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned)).toBeUndefined();
    expect(await page.locator('script').count()).toBe(0);
    const error = page.locator(`${anchorOf(summary, 'vulkan', 'completion-stream')} pre.error-text`);
    await expect.poll(() => error.isVisible()).toBe(true);
    expect(await error.innerText()).toContain('<script>window.__pwned=1</script> ]]> & "double" \'single\' \\u0001 end');
    // A closed row opens on click and shows golden's text, control character made visible.
    const cpuHello = page.locator(anchorOf(summary, 'cpu', 'chat-hello'));
    expect(await cpuHello.locator('pre.output').isVisible()).toBe(false);
    await cpuHello.locator('summary').click();
    expect(await cpuHello.locator('pre.output').innerText()).toBe(HOSTILE.replace('\u0001', '\\u0001'));
    expect(await cpuHello.locator('.diff-head').innerText()).toBe('identical to golden over 11 tokens');
  });

  it('shows the backends and the backend × suite matrix first, without scrolling', async () => {
    const { page } = loaded;
    const backends = page.locator('#backends table');
    const matrix = page.locator('#matrix table.matrix');
    expect(await backends.isVisible()).toBe(true);
    expect(await matrix.isVisible()).toBe(true);
    expect((await matrix.boundingBox())!.y).toBeLessThan(900);
    const vulkan = backends.locator('tbody tr', { hasText: 'vulkan' });
    expect(await vulkan.innerText()).toContain('llvmpipe (LLVM 15.0.6, 256 bits)');
    expect(await vulkan.innerText()).toContain('12.9 s');
    const row = matrix.locator('tbody tr', { hasText: 'vulkan' });
    expect(await row.locator('td[data-suite="smoke"]').innerText()).toBe('1 pass 1 fail 1 error 1 skip');
    expect(await row.locator('td[data-suite="tools"]').innerText()).toBe('1 pass 1 fail 0 error 0 skip');
    expect(await page.locator('#verdict').innerText()).toContain('2 conformance failures');
  });

  it('renders a side-by-side diff with the divergence highlighted and top logprobs on both sides', async () => {
    const { page } = loaded;
    const flip = page.locator(anchorOf(summary, 'vulkan', 'chat-unicode'));
    expect(await flip.locator('.diff-head').innerText()).toBe('first divergence at token 1 (confident flip), prefix drift 0.0100 nats');
    expect(await flip.locator('.tokens.golden .tok.div').innerText()).toBe('␣Paris');
    expect(await flip.locator('.tokens.got .tok.div').innerText()).toBe('␣Ber|lin');
    expect(await flip.locator('.tokens.golden .tok.div').isVisible()).toBe(true);
    const tops = flip.locator('.tops .side');
    expect(await tops.nth(0).locator('tbody tr').count()).toBe(3);
    expect(await tops.nth(1).locator('tr.is-got').innerText()).toContain('-0.400');
    expect(await tops.nth(1).locator('tr.is-golden').innerText()).toContain('-1.500');

    const nearTie = page.locator(anchorOf(summary, 'vulkan', 'chat-hello'));
    expect(await nearTie.locator('.diff-head').innerText()).toContain('first divergence at token 3 (near-tie), logprob gap 0.150 nats');
    expect(await nearTie.locator('.tokens.golden .tok.div').innerText()).toBe('=1');
    expect(await nearTie.locator('.tokens.got .tok.div').innerText()).toBe('=2');
    // Golden continues past the divergence (from the golden file): 11 tokens against the backend's 6.
    expect(await nearTie.locator('.tokens.golden .tok').count()).toBe(11);
    expect(await nearTie.locator('.tokens.got .tok').count()).toBe(6);
    expect(await page.locator('#divergences tbody tr').count()).toBe(3);
  });

  it('diffs tool calls and lists every verdict with measured value, threshold and message', async () => {
    const { page } = loaded;
    const tool = page.locator(anchorOf(summary, 'vulkan', 'tool-call-named'));
    const row = tool.locator('.tool-diff tbody tr');
    expect(await row.getAttribute('class')).toBe('differs');
    const cells = await row.locator('td').allInnerTexts();
    expect(cells.slice(1)).toEqual(['get_time', 'get_weather', '{"timezone":"America/Lima"}', '{"city":"Lima","unit":"c<&>\\"|"}', 'different tool']);
    const verdicts = await tool.locator('table.verdicts tbody tr').allInnerTexts();
    expect(verdicts).toHaveLength(3);
    expect(verdicts[0]).toContain('get_weather\tget_time\ttool_choice named get_time but the server called get_weather');
    expect(verdicts[2]).toContain('3\tgap ≤ 0.25 nats\tconfident flip at token 3');
  });

  it('draws the TTFT chart, the latency CDF and the cold-start bars as inline SVG', async () => {
    const { page } = loaded;
    const ttft = page.locator('#chart-ttft svg');
    expect(await ttft.isVisible()).toBe(true);
    expect(await ttft.locator('rect').count()).toBe(5);
    expect(await ttft.locator('title').first().textContent()).toBe('Time to first token per case');
    const cdf = page.locator('#chart-cdf svg path.series');
    expect(await cdf.count()).toBe(2);
    expect(await page.locator('#chart-cdf .legend').innerText()).toContain('vulkan (n=5');
    const cold = page.locator('#chart-cold-start svg rect');
    expect(await cold.count()).toBe(4);
    for (const box of await Promise.all((await cold.all()).map((r) => r.boundingBox()))) expect(box!.width).toBeGreaterThan(0);
    expect(await page.locator('#chart-cold-start svg').textContent()).toContain('12.9 s + 216 ms');
  });

  it('keeps hostile backend, suite and case names as text in tables and SVG', async () => {
    const hostile = fixtureSummary();
    const backend = '<img src=x onerror="window.__pwned=1">';
    const suite = 't|<svg onload=window.__pwned=1>';
    for (const r of hostile.results) {
      if (r.backend === 'vulkan') r.backend = backend;
      if (r.suite === 'tools') r.suite = suite;
      if (r.caseId === 'tool-call-named') r.caseId = 'c"&<i>x</i>';
    }
    hostile.backends[1]!.name = backend;
    hostile.suites = ['smoke', suite];
    hostile.matrix = countMatrix(hostile.results);
    const other = await openFile(browser, writeReport(hostile, new Map()));
    try {
      expect(other.consoleErrors).toEqual([]);
      expect(other.pageErrors).toEqual([]);
      expect(other.requests).toEqual([other.url]);
      expect(await other.page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned)).toBeUndefined();
      expect(await other.page.locator('main img, main i, svg svg').count()).toBe(0);
      expect(await other.page.locator('#matrix thead').innerText()).toContain(suite);
      const labels = await other.page.locator('#chart-ttft svg text').allTextContents();
      expect(labels.some((t) => t.startsWith('t|<svg onload=window.__pwned=1>/c"&'))).toBe(true);
      expect(await other.page.locator('#chart-ttft svg rect title').allTextContents()).toContain(`${backend} ${suite}/c"&<i>x</i>: TTFT 403 ms`);
      expect(await other.page.locator('#chart-cold-start svg').textContent()).toContain(backend);
    } finally {
      await other.close();
    }
  });

  it('junit.xml parses in Chromium with the same counts', async () => {
    const xml = renderJunit(summary);
    const parsed = await loaded.page.evaluate((text) => {
      const doc = new DOMParser().parseFromString(text, 'application/xml');
      const suites = [...doc.getElementsByTagName('testsuite')];
      return {
        errors: doc.getElementsByTagName('parsererror').length,
        suites: suites.map((s) => [s.getAttribute('name'), s.getAttribute('tests'), s.getElementsByTagName('failure').length, s.getElementsByTagName('error').length, s.getElementsByTagName('skipped').length]),
        out: doc.getElementsByTagName('system-out')[0]?.textContent,
      };
    }, xml);
    expect(parsed.errors).toBe(0);
    expect(parsed.suites).toEqual([
      ['cpu/smoke', '4', 0, 0, 0],
      ['cpu/tools', '2', 0, 0, 0],
      ['vulkan/smoke', '4', 1, 1, 1],
      ['vulkan/tools', '2', 1, 0, 0],
    ]);
    expect(parsed.out).toBe('The capital is Ber|lin.');
  });

  it('is self-contained: inline CSS, no external URLs, a CSP that forbids scripts and fetches', () => {
    const html = readFileSync(writeReport(summary), 'utf8');
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'`);
    expect(html).not.toMatch(/\b(src|href)="(https?:)?\/\//);
    expect(html).not.toContain('<link');
    expect(html).not.toContain('@import');
    // The template gets plain data: no triple-stash anywhere, so nothing bypasses escaping.
    expect(readFileSync(new URL('../../src/reporters/html/report.hbs', import.meta.url), 'utf8')).not.toContain('{{{');
  });
});

describe('html report: a run too big to show every case in full', () => {
  // The fixture's cases copied until the run has more than FULL_REPORT_CASES, hostile text in a passing case's verdict.
  const bigSummary = (): RunSummary => {
    const base = fixtureSummary();
    const results = Array.from({ length: Math.ceil((FULL_REPORT_CASES + 1) / base.results.length) }, (_, copy) =>
      base.results.map((r, i) => ({ ...r, id: `${r.id}-${copy}`, caseId: `${r.caseId}-${copy}`, sampleLine: copy * base.results.length + i + 2 })),
    ).flat();
    const pass = results.find((r) => r.status === 'pass')!;
    pass.verdicts = pass.verdicts.map((v) => ({ ...v, message: HOSTILE }));
    return { ...base, results, matrix: countMatrix(results) };
  };

  it('keeps failures, errors and divergences in full and puts every other case on one escaped line naming its journal line', () => {
    const summary = bigSummary();
    const model = buildReportModel(summary, { goldens: fixtureGoldens() });
    expect(model.cases).toHaveLength(summary.results.length);
    const full = model.cases.filter((c) => !c.compact);
    expect(full.length).toBeGreaterThan(0);
    for (const row of full) expect(row.status !== 'pass' && row.status !== 'skip' || row.diff !== null || row.open, row.caseId).toBe(true);
    expect(full.every((c) => c.status !== 'fail' || c.verdicts.length > 0)).toBe(true);
    const compact = model.cases.filter((c) => c.compact);
    expect(compact.length).toBeGreaterThan(summary.results.length / 2);
    expect(compact.every((c) => c.status === 'pass' || c.status === 'skip')).toBe(true);
    expect(model.casesNote).toContain(`${compact.length.toLocaleString('en-US')} of ${summary.results.length.toLocaleString('en-US')} cases are one line each`);

    const html = renderHtmlReport(summary, { goldens: fixtureGoldens() });
    const first = compact[0]!;
    expect(html).toContain(`${first.status}  ${first.backend}  ${first.suite}  ${first.caseId}  TTFT ${first.ttft}  end-to-end ${first.e2e}  ${first.journalLine}`);
    expect(first.journalLine).toMatch(/^samples\.jsonl line \d+$/);
    expect(html).not.toContain('<script>window.__pwned');
    expect(html).toContain('&lt;script&gt;window.__pwned');
    // Every problem links to a case rendered in full.
    for (const p of model.problems) expect(html).toContain(`id="${p.anchor}"`);
  });

  it('shows every case in full up to FULL_REPORT_CASES', () => {
    const model = buildReportModel(fixtureSummary(), { goldens: fixtureGoldens() });
    expect(model.cases.some((c) => c.compact)).toBe(false);
  });
});
