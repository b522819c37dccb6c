import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { CaseResult } from '../../src/core/types.ts';
import { renderBadgeSvg } from '../../src/reporters/badge-writer.ts';
import { backendRun, result, summary } from '../core/run-summary-fixtures.ts';
import { conform, makeProject } from '../helpers/conform-cli.ts';

/**
 * A small XML well-formedness check: every tag is a valid element tag with quoted attributes
 * (no duplicate names), tags balance with one root, and text and attribute values hold no raw
 * `<` and no `&` that does not start an entity. Returns the element names in document order.
 */
function checkXml(xml: string): string[] {
  const entity = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/y;
  const checkText = (text: string, where: string) => {
    for (let i = 0; i < text.length; i++) {
      if (text[i] === '<') throw new Error(`raw < in ${where}`);
      if (text[i] === '&') {
        entity.lastIndex = i;
        if (!entity.test(text)) throw new Error(`bare & in ${where}: ${text.slice(i, i + 12)}`);
      }
    }
  };
  const tag = /<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[A-Za-z_][\w.:-]*\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/y;
  const attribute = /([A-Za-z_][\w.:-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
  const stack: string[] = [];
  const names: string[] = [];
  let roots = 0;
  let i = 0;
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '').trimEnd();
  while (i < body.length) {
    const lt = body.indexOf('<', i);
    const text = body.slice(i, lt === -1 ? body.length : lt);
    if (stack.length === 0 && text.trim() !== '') throw new Error(`text outside the root element: ${text.slice(0, 20)}`);
    checkText(text, 'text');
    if (lt === -1) break;
    if (body.startsWith('<!--', lt)) {
      const end = body.indexOf('-->', lt);
      if (end === -1) throw new Error('unclosed comment');
      i = end + 3;
      continue;
    }
    tag.lastIndex = lt;
    const match = tag.exec(body);
    if (!match) throw new Error(`malformed tag at ${lt}: ${body.slice(lt, lt + 30)}`);
    const [whole, closing, name, attrs, selfClosing] = match;
    if (closing) {
      if (attrs!.trim() || selfClosing) throw new Error(`closing tag with attributes: ${whole}`);
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
    } else {
      const seen = new Set<string>();
      for (const [, attr, double, single] of attrs!.matchAll(attribute)) {
        if (seen.has(attr!)) throw new Error(`duplicate attribute ${attr} on <${name}>`);
        seen.add(attr!);
        checkText(double ?? single ?? '', `attribute ${attr}`);
      }
      names.push(name!);
      if (stack.length === 0) roots++;
      if (!selfClosing) stack.push(name!);
    }
    i = lt + whole!.length;
  }
  if (stack.length) throw new Error(`unclosed <${stack.join('>, <')}>`);
  if (roots !== 1) throw new Error(`${roots} root elements`);
  return names;
}

describe('checkXml, the checker the badge tests rely on', () => {
  it('accepts well-formed XML and rejects the usual breakages', () => {
    expect(checkXml('<?xml version="1.0"?><a x="1"><b/><c y=\'&amp;\'>t &lt; &#60;</c></a>')).toEqual(['a', 'b', 'c']);
    for (const bad of ['<a><b></a></b>', '<a>', '<a>x & y</a>', '<a>x < y</a>', '<a x="1" x="2"/>', '<a/><b/>', '<a x=1/>', '<a title="<x>"/>', 'text<a/>'])
      expect(() => checkXml(bad), bad).toThrow();
  });
});

const SHIELDS_COLORS = new Set(['green', 'red', 'lightgrey']);

function expectShieldsEndpoint(file: string, label: string, message: string, color: string) {
  const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  expect(Object.keys(json).sort()).toEqual(['color', 'label', 'message', 'schemaVersion']);
  expect(json.schemaVersion).toBe(1);
  for (const key of ['label', 'message', 'color']) expect(typeof json[key]).toBe('string');
  expect(SHIELDS_COLORS.has(json.color as string)).toBe(true);
  expect(json).toEqual({ schemaVersion: 1, label, message, color });
}

function writeRun(project: string, runId: string, results: CaseResult[], finishedAt: string, extraBackends: string[] = []): string {
  const dir = join(project, 'reports', runId);
  mkdirSync(dir, { recursive: true });
  const names = [...new Set([...results.map((r) => r.backend), ...extraBackends])];
  const s = summary(results, { runId, finishedAt, backends: names.map((n) => backendRun(n, n === 'rocm' ? { state: 'crashed', reason: 'segfault' } : {})) });
  writeFileSync(join(dir, 'summary.json'), JSON.stringify(s));
  return dir;
}

// Not a git repository and no git identity: the release falls back to "unknown" unless given.
const ENV = { GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_CEILING_DIRECTORIES: '/' };

describe('conform badge', () => {
  let project: string;
  beforeEach(() => {
    project = makeProject([]);
    writeRun(
      project,
      'run-1',
      [
        result({ backend: 'cpu', caseId: 'a', status: 'pass' }),
        result({ backend: 'cpu', caseId: 'b', status: 'skip' }),
        result({ backend: 'vulkan', caseId: 'a', status: 'pass' }),
        result({ backend: 'vulkan', caseId: 'b', status: 'fail' }),
        result({ backend: 'rocm', caseId: 'a', status: 'error' }),
      ],
      '2026-03-01T10:00:00.000Z',
    );
  });

  it('writes a well-formed, escaped SVG and a shields endpoint JSON per backend, plus history and last-passing.md', async () => {
    const r = await conform(['badge', 'reports/run-1', '--release', 'v1.2.3', '--label', '<x&y>'], { cwd: project, env: ENV });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}cpu +passing v1\.2\.3 +\(1 passed, 0 failed, 0 errors, 1 skipped\)$/m);
    const out = join(project, 'badges');
    // cpu-q8 is in the built-in config but not in this run: unknown, not left out.
    expect(readdirSync(out).sort()).toEqual(['cpu-q8.json', 'cpu-q8.svg', 'cpu.json', 'cpu.svg', 'history.json', 'last-passing.md', 'rocm.json', 'rocm.svg', 'vulkan.json', 'vulkan.svg']);
    expectShieldsEndpoint(join(out, 'cpu-q8.json'), '<x&y> cpu-q8', 'unknown', 'lightgrey');

    for (const backend of ['cpu', 'vulkan', 'rocm']) {
      const svg = readFileSync(join(out, `${backend}.svg`), 'utf8');
      const names = checkXml(svg);
      expect(names[0]).toBe('svg');
      expect(names).toContain('text');
      expect(svg).toContain(`&lt;x&amp;y&gt; ${backend}`);
      expect(svg).not.toContain('<x&y>');
    }
    expect(readFileSync(join(out, 'cpu.svg'), 'utf8')).toContain('passing v1.2.3');
    expectShieldsEndpoint(join(out, 'cpu.json'), '<x&y> cpu', 'passing v1.2.3', 'green');
    expectShieldsEndpoint(join(out, 'vulkan.json'), '<x&y> vulkan', 'failing', 'red');
    expectShieldsEndpoint(join(out, 'rocm.json'), '<x&y> rocm', 'unknown', 'lightgrey');

    const history = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8'));
    expect(history.schemaVersion).toBe(1);
    expect(history.backends.cpu).toEqual({
      lastPassing: { release: 'v1.2.3', date: '2026-03-01T10:00:00.000Z', runId: 'run-1' },
      recent: [{ release: 'v1.2.3', status: 'passing', date: '2026-03-01T10:00:00.000Z', runId: 'run-1' }],
    });
    expect(history.backends.vulkan.lastPassing).toBeNull();
    expect(readFileSync(join(out, 'last-passing.md'), 'utf8')).toContain('| cpu | ![cpu](cpu.svg) | v1.2.3 | 2026-03-01 | passing (v1.2.3, 2026-03-01) |');
  });

  it('keeps the last passing release when a later release fails, and defaults to the newest run', async () => {
    await conform(['badge', 'reports/run-1', '--release', 'v1.2.3'], { cwd: project, env: ENV });
    writeRun(project, 'run-2', [result({ backend: 'cpu', caseId: 'a', status: 'fail' }), result({ backend: 'vulkan', caseId: 'a', status: 'pass' })], '2026-04-01T10:00:00.000Z');
    const r = await conform(['badge', '--release', 'v1.3.0'], { cwd: project, env: ENV });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('badges for run run-2, release v1.3.0');
    expectShieldsEndpoint(join(project, 'badges', 'cpu.json'), 'conform cpu', 'failing', 'red');
    expectShieldsEndpoint(join(project, 'badges', 'vulkan.json'), 'conform vulkan', 'passing v1.3.0', 'green');
    const md = readFileSync(join(project, 'badges', 'last-passing.md'), 'utf8');
    expect(md).toContain('| cpu | ![cpu](cpu.svg) | v1.2.3 | 2026-03-01 | failing (v1.3.0, 2026-04-01) |');
    expect(md).toContain('| vulkan | ![vulkan](vulkan.svg) | v1.3.0 | 2026-04-01 | passing (v1.3.0, 2026-04-01) |');
    const history = JSON.parse(readFileSync(join(project, 'badges', 'history.json'), 'utf8'));
    expect(history.backends.cpu.recent.map((e: { release: string }) => e.release)).toEqual(['v1.3.0', 'v1.2.3']);
    // rocm was not in run-2 nor configured (the built-in config has cpu, cpu-q8 and vulkan): its history stays as it was.
    expect(history.backends.rocm.recent).toHaveLength(1);
  });

  it('falls back to release "unknown" without --release, config release or git tag, and writes to --out', async () => {
    const r = await conform(['badge', 'reports/run-1', '--out', 'site/badges'], { cwd: project, env: ENV });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('release unknown');
    expectShieldsEndpoint(join(project, 'site', 'badges', 'cpu.json'), 'conform cpu', 'passing', 'green');
    const table = readFileSync(join(project, 'site', 'badges', 'last-passing.md'), 'utf8');
    expect(table).toContain('| cpu | ![cpu](cpu.svg) | no tagged release yet | — | passing (untagged, ');
    expect(table).not.toMatch(/\| unknown \|/);
    checkXml(readFileSync(join(project, 'site', 'badges', 'cpu.svg'), 'utf8'));
  });

  it('refuses a backend name that cannot be a file name, writing nothing', async () => {
    const dir = writeRun(project, 'evil', [], '2026-03-01T10:00:00.000Z');
    const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    s.results = [{ ...result({ caseId: 'a', status: 'pass' }), backend: '../<x&y>' }];
    writeFileSync(join(dir, 'summary.json'), JSON.stringify(s));
    const r = await conform(['badge', 'reports/evil', '--release', 'v1'], { cwd: project, env: ENV });
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim()).toMatch(/^conform badge: backend name "\.\.\/<x&y>" cannot name a badge file/);
    expect(existsSync(join(project, 'badges'))).toBe(false);
  });

  it('renders hostile text escaped in every place badge-maker puts it', () => {
    const svg = renderBadgeSvg({ label: `<x&y> "q" 'a'`, message: '</text><script>alert(1)</script>', color: 'red' });
    checkXml(svg);
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('&lt;/text&gt;&lt;script&gt;');
  });
});
