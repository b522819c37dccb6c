import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMarkdownReporter, mdText, renderMarkdown } from '../../src/reporters/markdown-reporter.ts';
import { fixtureSummary, maskVolatile } from './fixture-summary.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'conform-md-'));

/** The cells of a markdown table row, honouring `\|` as an escaped pipe (as GitHub does). */
function cells(line: string): string[] {
  const out: string[] = [];
  let current = '';
  for (let i = 1; i < line.length - 1; i++) {
    if (line[i] === '\\' && i + 1 < line.length - 1) {
      current += line[i]! + line[i + 1]!;
      i++;
    } else if (line[i] === '|') {
      out.push(current.trim());
      current = '';
    } else current += line[i];
  }
  out.push(current.trim());
  return out;
}

describe('markdown reporter', () => {
  const summary = fixtureSummary();
  const md = renderMarkdown(summary);
  const lines = md.split('\n');
  const section = (title: string) => {
    const start = lines.indexOf(`### ${title}`);
    expect(start, title).toBeGreaterThanOrEqual(0);
    const rows: string[] = [];
    for (let i = start + 2; i < lines.length && lines[i]!.startsWith('|'); i++) rows.push(lines[i]!);
    return rows;
  };

  it('writes summary.md with the headline and the backend table (identity, device, cold start)', () => {
    const dir = tmp();
    createMarkdownReporter().onRunEnd!(summary, dir);
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toBe(md);
    expect(lines[0]).toBe('## conform run 20260302T100000Z-5eed01: ❌ 2 conformance failures');
    const backends = section('Backends').map(cells);
    expect(backends[0]).toEqual(['backend', 'class', 'state', 'engine', 'device', 'spawn → healthy', 'healthy → first answer']);
    expect(backends[2]).toEqual(['**cpu**', 'cpu', 'ran', 'llama.cpp (node-llama-cpp), node-llama-cpp 3.21.1, llama.cpp v0.4.0', 'AMD EPYC', '1.66 s', '15.0 ms']);
    expect(backends[3]!.slice(4)).toEqual(['llvmpipe (LLVM 15.0.6, 256 bits)', '12.9 s', '216 ms']);
  });

  it('has the backend × suite matrix with counts', () => {
    const matrix = section('Backend × suite').map(cells);
    expect(matrix).toEqual([
      ['backend', 'smoke', 'tools', 'all suites'],
      ['---', '---', '---', '---'],
      ['**cpu**', '✅ 4 pass', '✅ 2 pass', '✅ 6 pass'],
      ['**vulkan**', '❌ 1 pass, 1 fail, 1 error, 1 skip', '❌ 1 pass, 1 fail', '❌ 2 pass, 2 fail, 1 error, 1 skip'],
    ]);
  });

  it('lists divergences with index and near-tie or confident, and failures and errors with one-line messages', () => {
    const divergences = section('Greedy divergences').map(cells);
    expect(divergences.slice(2).map((r) => r.slice(0, 5))).toEqual([
      ['vulkan/smoke/chat-hello', '3', '🟡 near-tie', '=1 → =2', '0.150'],
      ['vulkan/smoke/chat-unicode', '1', '🔴 confident flip', '␣Paris → ␣Ber\\|lin', '—'],
      ['vulkan/tools/tool-call-named', '3', '🔴 confident flip', 'get\\_time → get\\_weather', '2.620'],
    ]);
    const problems = section('Failures and errors').map(cells).slice(2);
    expect(problems.map((r) => r.slice(0, 3))).toEqual([
      ['❌ FAIL', 'vulkan/smoke/chat-unicode', 'greedy-divergence'],
      ['⚠️ ERROR', 'vulkan/smoke/completion-stream', 'sample'],
      ['❌ FAIL', 'vulkan/tools/tool-call-named', 'tool-call'],
    ]);
    // Every row has exactly the header's number of cells: no pipe in model text split a row.
    for (const row of section('Greedy divergences')) expect(cells(row)).toHaveLength(6);
    for (const row of section('Failures and errors')) expect(cells(row)).toHaveLength(4);
  });

  it('escapes pipes, backticks and HTML in model text, and shows control characters', () => {
    expect(md).toContain('got " Ber\\|lin"');
    expect(md).not.toContain('<script>');
    expect(md).not.toContain('<b>');
    expect(md).toContain('&lt;script&gt;window.\\_\\_pwned=1&lt;/script&gt; \\]\\]&gt; &amp; "double"');
    expect(md).toContain('\\\\u0001');
    expect(md).not.toContain('\u0001');
    expect(md).not.toContain('\u0000');
    expect(mdText('a|b `c` <i>&</i>\nnext *x* [l](u) ~s~ \\')).toBe('a\\|b \\`c\\` &lt;i&gt;&amp;&lt;/i&gt; next \\*x\\* \\[l\\](u) \\~s\\~ \\\\');
  });

  it('appends the same markdown to the GitHub step summary file it is given', () => {
    const dir = tmp();
    const stepSummary = join(tmp(), 'step-summary.md');
    writeFileSync(stepSummary, 'earlier step\n');
    const reporter = createMarkdownReporter({ githubStepSummary: stepSummary });
    reporter.onRunEnd!(summary, dir);
    expect(readFileSync(stepSummary, 'utf8')).toBe(`earlier step\n${md}\n`);
  });

  it('depends on nothing but the summary: masked runs render identically', () => {
    const other = structuredClone(summary);
    other.runId = '20991231T235959Z-ffffff';
    other.startedAt = '2099-12-31T23:59:59.000Z';
    expect(renderMarkdown(maskVolatile(other))).toBe(renderMarkdown(maskVolatile(summary)));
  });
});
