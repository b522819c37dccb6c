import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/core/types.ts';
import { createJunitReporter, renderJunit, xmlAttr, xmlText } from '../../src/reporters/junit-reporter.ts';
import { fixtureSummary, HOSTILE, maskVolatile } from './fixture-summary.ts';
import { elements, parseXml, textOf, XmlError, type XmlElement } from './xml.ts';

function written(summary: RunSummary): string {
  const dir = mkdtempSync(join(tmpdir(), 'conform-junit-'));
  createJunitReporter().onRunEnd!(summary, dir);
  return readFileSync(join(dir, 'junit.xml'), 'utf8');
}

const num = (e: XmlElement, attr: string) => Number(e.attributes[attr]);
const STATUS_ELEMENTS = ['failure', 'error', 'skipped'];

describe('the XML checker itself', () => {
  it('rejects what is not well-formed', () => {
    for (const bad of ['<a>', '<a></b>', '<a x="1" x="2"/>', '<a x="<"/>', '<a>&nope;</a>', '<a>]]></a>', '<a>\u0001</a>', '<a>&#1;</a>', '<a/><b/>', '<a>&amp</a>'])
      expect(() => parseXml(bad), bad).toThrow(XmlError);
    expect(textOf(parseXml('<a t="&quot;&#10;">x &lt;&amp;&gt; <![CDATA[<y>]]></a>'))).toBe('x <&> <y>');
  });
});

describe('junit reporter', () => {
  const summary = fixtureSummary();
  const xml = written(summary);
  const root = parseXml(xml);
  const suites = elements(root, 'testsuite');

  it('writes well-formed XML in the testsuites/testsuite/testcase shape', () => {
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n')).toBe(true);
    expect(root.name).toBe('testsuites');
    expect(suites.map((s) => s.attributes.name)).toEqual(['cpu/smoke', 'cpu/tools', 'vulkan/smoke', 'vulkan/tools']);
    for (const suite of suites) {
      // Children in the XSD's order: properties, then testcases.
      expect(elements(suite).map((e) => e.name)).toEqual(['properties', ...elements(suite, 'testcase').map(() => 'testcase')]);
      const [backend, suiteName] = suite.attributes.name!.split('/');
      for (const tc of elements(suite, 'testcase')) {
        expect(tc.attributes.classname).toBe(`${backend}.${suiteName}`);
        expect(Number.isFinite(Number(tc.attributes.time))).toBe(true);
      }
      for (const attr of ['tests', 'failures', 'errors', 'skipped', 'time', 'timestamp', 'hostname', 'id', 'package']) expect(suite.attributes[attr], attr).toBeDefined();
      expect(suite.attributes.timestamp).toBe('2026-03-02T10:00:00');
    }
  });

  it('counts tests, failures, errors and skips per suite and overall, each status once', () => {
    const expected: Record<string, [number, number, number, number]> = {
      'cpu/smoke': [4, 0, 0, 0],
      'cpu/tools': [2, 0, 0, 0],
      'vulkan/smoke': [4, 1, 1, 1],
      'vulkan/tools': [2, 1, 0, 0],
    };
    for (const suite of suites) {
      const cases = elements(suite, 'testcase');
      const having = (name: string) => cases.filter((tc) => elements(tc, name).length > 0).length;
      // Attributes agree with the elements actually there...
      expect([num(suite, 'tests'), num(suite, 'failures'), num(suite, 'errors'), num(suite, 'skipped')]).toEqual([cases.length, having('failure'), having('error'), having('skipped')]);
      // ...and with the fixture.
      expect([cases.length, having('failure'), having('error'), having('skipped')]).toEqual(expected[suite.attributes.name!]);
      // Failures, errors and skips are kept apart: never two kinds on one testcase.
      for (const tc of cases) expect(elements(tc).filter((e) => STATUS_ELEMENTS.includes(e.name)).length).toBeLessThanOrEqual(1);
    }
    expect([num(root, 'tests'), num(root, 'failures'), num(root, 'errors')]).toEqual([12, 2, 1]);
  });

  it('puts each case under the element its status calls for, with the verdict messages', () => {
    const vulkanSmoke = suites.find((s) => s.attributes.name === 'vulkan/smoke')!;
    const tc = (name: string) => elements(vulkanSmoke, 'testcase').find((t) => t.attributes.name === name)!;
    const flip = elements(tc('chat-unicode'), 'failure')[0]!;
    expect(flip.attributes.type).toBe('greedy-divergence');
    expect(flip.attributes.message).toBe('greedy-divergence: confident flip at token 1: golden " Paris", got " Ber|lin"; golden\'s top-5 lacks " Ber|lin"');
    expect(textOf(flip)).toContain('[skip] exact: exact applies on the golden backend only');
    expect(textOf(flip)).toContain('[fail] greedy-divergence: confident flip at token 1');
    const error = elements(tc('completion-stream'), 'error')[0]!;
    expect(error.attributes.type).toBe('sample');
    expect(error.attributes.message).toContain('upstream said <b>502</b> & "bad gateway"');
    expect(textOf(error)).toContain('sample http-error (HTTP 502)');
    const skipped = elements(tc('chat-seeded-sampling'), 'skipped')[0]!;
    expect(skipped.attributes.message).toBe('exact: exact applies on the golden backend only; other backends are judged by greedy-divergence');
    expect(elements(tc('chat-hello'))).toEqual([]);
  });

  it('escapes untrusted model output and strips characters XML cannot carry', () => {
    const failing = structuredClone(summary);
    const hello = failing.results.find((r) => r.backend === 'vulkan' && r.caseId === 'chat-hello')!;
    hello.status = 'fail';
    hello.sample!.text = HOSTILE;
    hello.verdicts[1] = { ...hello.verdicts[1]!, status: 'fail', message: `${HOSTILE} \uFFFF \uD800 tab\there` };
    const reparsed = parseXml(renderJunit(failing));
    const tc = elements(elements(reparsed, 'testsuite').find((s) => s.attributes.name === 'vulkan/smoke')!, 'testcase').find((t) => t.attributes.name === 'chat-hello')!;
    const failure = elements(tc, 'failure')[0]!;
    const withoutIllegal = HOSTILE.replace('\u0001', '');
    expect(failure.attributes.message).toBe(`greedy-divergence: ${withoutIllegal}   tab\there`);
    expect(textOf(elements(tc, 'system-out')[0]!)).toBe(withoutIllegal);
    expect(renderJunit(failing)).not.toContain('<script>');
  });

  it('escapes each markup character in text and attributes', () => {
    expect(xmlText('a<b>&c]]>\u0000\u0008\u000b\r')).toBe('a&lt;b&gt;&amp;c]]&gt;&#13;');
    expect(xmlAttr(`"'<&\n\t`)).toBe('&quot;&apos;&lt;&amp;&#10;&#9;');
    expect(xmlText('emoji 😀 stays')).toBe('emoji 😀 stays');
  });

  it('depends on nothing but the summary: masked runs render identically', () => {
    const other = structuredClone(summary);
    other.runId = '20991231T235959Z-ffffff';
    other.startedAt = '2099-12-31T23:59:59.000Z';
    expect(renderJunit(maskVolatile(other))).toBe(renderJunit(maskVolatile(summary)));
  });
});
