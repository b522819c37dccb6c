import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BUNDLED_SUITES_DIR } from '../../src/config/package-files.ts';
import { ConformError } from '../../src/core/errors.ts';
import { fastYamlStats, readPlainYaml } from '../../src/suites/fast-yaml.ts';
import { parseSuite } from '../../src/suites/parse-suite.ts';
import { MAX_YAML_DEPTH } from '../../src/suites/yaml-checks.ts';
import { fragmentText, junkText, mangledSuite } from './support/suite-arbitraries.ts';
import { writtenYaml, yamlTokenText } from './support/yaml-arbitraries.ts';
import { disagreement, sameData, slowReading } from './support/yaml-differential.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SKIPPED = new Set(['node_modules', '.git', 'reports']);

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return SKIPPED.has(entry.name) ? [] : yamlFiles(path);
    return /\.ya?ml$/.test(entry.name) ? [path] : [];
  });
}

const k = (value: string) => `k: ${value}\n`;

// Plain scalars, each as a mapping's value, where YAML 1.1, js-yaml's CORE_SCHEMA and YAML 1.2's core schema differ.
const SCALARS = [
  '1_000', '0b11', '0o17', '0x1F', '0x1f', '0x', '0o8', '012', '0012', '+12', '-12', '-0', '+0', '.5', '-.5', '+.5', '1e3', '1E-3', '1.', '-1.5e+3', '1_0.5', '1e', 'e3',
  '123456789012345678901234567890', '0x123456789ABCDEF0123', '1.7976931348623157e308', '1e400', '.inf', '-.Inf', '+.INF', '.NaN', '.nan', 'nan', 'inf',
  '~', 'null', 'Null', 'NULL', 'nULL', '', 'true', 'True', 'TRUE', 'tRUE', 'false', 'False', 'FALSE', 'yes', 'no', 'on', 'off', 'y', 'n', 'Y', 'N',
  '2024-01-01', '2001-12-14t21:59:43.10-05:00', '12:30:00', '190:20:30', '=', '<<', 'a#b', 'a # comment', 'é', '😀', 'hello world', 'a:b', 'http://x/y?z=1',
];

const TEXTS: Record<string, string> = {
  'block literal': 'k: |\n  a\n   b\n\n  c\n',
  'block strip': 'k: |-\n  a\n  b\n\n\n',
  'block keep': 'k: |+\n  a\n  b\n\n\nn: 1\n',
  'block folded': 'k: >\n  a\n  b\n\n  c\n    more\n  d\n',
  'block folded strip': 'k: >-\n  a\n  b\n',
  'block with indentation indicator': 'k: |2\n    a\n   b\n',
  'block folded keep': 'k: >+\n  a\n\n',
  'block in list': 'k:\n  - |\n    a\n  - >-\n    b\n    c\n',
  'block at the end without newline': 'k: |\n  a',
  'multi-line plain': 'k: a\n  b\n\n  c\n',
  'multi-line double quoted': 'k: "a\n  b\n\n  c"\n',
  'multi-line single quoted': "k: 'a\n  b\n\n  c'\n",
  'folded quoted with trailing spaces': 'k: "a   \n  b"\n',
  'escaped line break': 'k: "a\\\n  b"\n',
  escapes: 'k: "\\u00e9\\x41\\t\\N\\_\\L\\P\\/\\0\\a\\e\\"\\\\ \\U0001F600"\n',
  'single-quote escape': "k: 'it''s'\n",
  'comments after values': 'k: 1 # one\nl: [a, b] # list\nm: "x" # quoted\n# last\n',
  'keys with spaces and colons': 'a key: 1\n"a: b": 2\nc:d: 3\nurl: http://x\n',
  'flow collections': 'k: { a: 1, b: [x, "y", \'z\'], c: {} }\nl: [ ]\n',
  'flow across lines': 'k: [\n  a,\n  b\n  ]\nm: {\n  a: 1 }\n',
  'flow closed at column 0': 'k: [\n  a\n]\n',
  'flow under-indented': 'k: [\na]\n',
  'trailing commas': 'k: [a, b, ]\nm: {a: 1, }\n',
  'empty flow entries': 'k: [a, , b]\n',
  'flow pairs in a list': 'k: [a: 1, b]\n',
  'json-like adjacent value': 'k: {"a":1, "b":[2]}\n',
  'tabs inside': 'k: "a\tb"\nl: a\tb\nm:\t1\n',
  'tab indentation': 'k:\n\t- a\n',
  crlf: 'k: a\r\nl:\r\n  - b\r\n  - |\r\n    c\r\n    d\r\n',
  'lone cr': 'k: a\rl: b\n',
  bom: '\ufeffk: a\n',
  'bom inside': 'k: a\n\ufeffl: b\n',
  unicode: 'ключ: значение\n键: 值\nemoji: 😀\n',
  'merge key without alias': 'k:\n  <<: { a: 1 }\n  b: 2\n',
  'merge key with alias': 'base: &b { a: 1 }\nk:\n  <<: *b\n',
  'duplicate keys': 'k: 1\nk: 2\n',
  'duplicate keys by value': 'k: 1\n"k": 2\n',
  'number and string key': '1: a\n"1": b\n',
  'equal numeric keys': '0x10: a\n16: b\n',
  'null key': '~: a\n',
  'empty key': ': a\n',
  'proto key': '__proto__: { polluted: true }\n',
  'collection key': '[a, b]: c\n',
  'mapping key': '{ a: 1 }: c\n',
  'unquoted template': 'prompt: {{filler words=8}}\n',
  'quoted templates': 'prompt: "{{filler words=8}}"\nother: \'{{needle "x" seed=2}}\'\nmixed: "Say {{filler words=3}} now"\n',
  'complex key': '? a\n: b\n',
  anchor: 'k: &a 1\nl: *a\n',
  tag: 'k: !!str 1\n',
  'local tag': 'k: !thing 1\n',
  directive: '%YAML 1.2\n---\nk: 1\n',
  'document start': '---\nk: 1\n',
  'document start with content': '--- k: 1\n',
  'document start glued': '---k: 1\n',
  'two documents': 'k: 1\n---\nl: 2\n',
  'document end': 'k: 1\n...\n',
  'empty document': '',
  'only comments': '# a\n# b\n',
  'top-level list': '- a\n- b\n',
  'top-level scalar': 'hello\n',
  'top-level block scalar': '|-\na\nb\n',
  'empty list item then outdented item': 'k:\n  - \n- x\n',
  'comment glued to quote': 'k: "a"# c\n',
  'long line': `k: ${'x'.repeat(2000)}\n`,
  'long key': `${'k'.repeat(1100)}: v\n`,
  'reserved indicator': 'k: @x\n',
  'nested mapping on one line': 'k: a: b\n',
  'wrong indentation': 'k:\n  a: 1\n b: 2\n',
  'non-printable': 'k: "\u0007"\nl: \u0007\n',
  'null byte': 'k: a\u0000\n',
};

// Forms real suites use: the fast reader must take them, or it would be fast only on paper.
const READ = ['block literal', 'block strip', 'block keep', 'block folded', 'block in list', 'multi-line plain', 'multi-line double quoted', 'escapes', 'comments after values', 'keys with spaces and colons', 'flow collections', 'flow across lines', 'crlf', 'bom', 'unicode', 'quoted templates', 'document start', 'tabs inside'];
// Forms where the two libraries differ, or that the slow path must see: the fast reader must leave them alone.
const DECLINED = ['folded quoted with trailing spaces', 'tab indentation', 'lone cr', 'bom inside', 'merge key with alias', 'duplicate keys', 'duplicate keys by value', 'number and string key', 'equal numeric keys', 'null key', 'proto key', 'collection key', 'mapping key', 'unquoted template', 'complex key', 'anchor', 'tag', 'local tag', 'directive', 'document start with content', 'document start glued', 'two documents', 'document end', 'empty document', 'only comments', 'top-level list', 'top-level scalar', 'top-level block scalar', 'empty list item then outdented item', 'comment glued to quote', 'long key', 'null byte'];

describe('readPlainYaml agrees with the yaml library whenever it reads a text', () => {
  const files = [...new Set([...yamlFiles(ROOT), ...yamlFiles(BUNDLED_SUITES_DIR)])];

  it('finds the repository YAML files, bundled suites included', () => {
    expect(files.filter((f) => f.startsWith(BUNDLED_SUITES_DIR)).length).toBeGreaterThanOrEqual(5);
  });

  it.each(files.map((f) => [relative(ROOT, f), f]))('%s', (_name, file) => {
    expect(disagreement(readFileSync(file, 'utf8'))).toBeUndefined();
  });

  it.each(SCALARS)('the plain scalar %j, as a value, a list item, a flow item and a key', (scalar) => {
    for (const text of [k(scalar), `k:\n  - ${scalar}\n`, `k: [${scalar}]\n`, `k: { a: ${scalar} }\n`, `${scalar}: v\n`, `k: "${scalar}"\n`]) expect(disagreement(text), JSON.stringify(text)).toBeUndefined();
  });

  it('reads the common scalars as the YAML 1.2 core schema does, not as YAML 1.1 or js-yaml would', () => {
    const read = (scalar: string) => (readPlainYaml(k(scalar)) as { k: unknown } | undefined)?.k;
    expect(['1_000', '0b11', '012', '+12', '-0', '.5', '-.5', '1e3', '0x1F', '0o17', 'yes', 'on', 'y', 'True', 'Null', '~', '2024-01-01', '12:30:00'].map(read)).toEqual([
      '1_000', '0b11', 12, 12, -0, 0.5, -0.5, 1000, 31, 15, 'yes', 'on', 'y', true, null, null, '2024-01-01', '12:30:00',
    ]);
    expect(Object.is(read('-0'), -0)).toBe(true);
    for (const scalar of ['.inf', '-.Inf', '.NaN']) expect(readPlainYaml(k(scalar))).toBeUndefined();
  });

  it.each(Object.entries(TEXTS))('%s', (name, text) => {
    expect(disagreement(text)).toBeUndefined();
    if (READ.includes(name)) expect(readPlainYaml(text)).toBeDefined();
    if (DECLINED.includes(name)) expect(readPlainYaml(text)).toBeUndefined();
  });

  it('reads nesting up to the depth the slow path allows, and declines one level more', () => {
    const nested = (levels: number) => `k: ${'['.repeat(levels)}${']'.repeat(levels)}\n`;
    // The mapping is level 1, so MAX_YAML_DEPTH - 1 lists reach the limit exactly.
    expect(readPlainYaml(nested(MAX_YAML_DEPTH - 1))).toBeDefined();
    expect('value' in slowReading(nested(MAX_YAML_DEPTH - 1))).toBe(true);
    expect(readPlainYaml(nested(MAX_YAML_DEPTH))).toBeUndefined();
    expect('problems' in slowReading(nested(MAX_YAML_DEPTH))).toBe(true);
    for (const levels of [MAX_YAML_DEPTH + 6, 5_000]) expect(readPlainYaml(nested(levels))).toBeUndefined();
  });

  it('never expands an alias: a billion-laughs text is declined before its value is walked', () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) levels.push(`${'abcdefghi'[i]}: &${'abcdefghi'[i]} [${Array(9).fill(`*${'abcdefghi'[i - 1]}`).join(',')}]`);
    expect(readPlainYaml(`${levels.join('\n')}\n`)).toBeUndefined();
  });

  it('agrees on 20,000 generated texts, and reads a good share of them', () => {
    const before = fastYamlStats.read;
    const disagreements: string[] = [];
    const agrees = (text: string) => {
      const found = disagreement(text);
      if (found) disagreements.push(`${JSON.stringify(text)}: ${found}`);
      return found === undefined;
    };
    fc.assert(fc.property(yamlTokenText, agrees), { numRuns: 6_000, seed: 20260201 });
    fc.assert(fc.property(writtenYaml, agrees), { numRuns: 6_000, seed: 20260202 });
    fc.assert(fc.property(mangledSuite, agrees), { numRuns: 4_000, seed: 20260203 });
    fc.assert(fc.property(fc.oneof(fragmentText, junkText), agrees), { numRuns: 4_000, seed: 20260204 });
    expect(disagreements).toEqual([]);
    expect(fastYamlStats.read - before).toBeGreaterThan(4_000);
  }, 120_000);
});

/** A suite or the exact error message: what a user sees. */
function outcome(text: string, fastRead: boolean): unknown {
  try {
    return parseSuite(text, 'suites/s.yaml', { fastRead });
  } catch (error) {
    return error instanceof ConformError ? { code: error.code, message: error.message } : { bug: String(error) };
  }
}

/** The same shape as bench/scale.ts and bench/suite-load.ts generate. */
function generatedSuite(cases: number): string {
  const lines = ['suite: scale', 'description: scale bench', 'defaults:', '  endpoint: chat', '  params: { max_tokens: 16, temperature: 0 }', '  checks:', '    - { kind: max-tokens }', 'cases:'];
  for (let i = 0; i < cases; i++) lines.push(`  - id: c${i}`, `    messages: [{ role: user, content: "Question number ${i}?" }]`);
  return `${lines.join('\n')}\n`;
}

describe('parseSuite gives the same suites and the same located errors with the fast reader as without', () => {
  const HEAD = 'suite: demo\ndescription: d\ncases:\n';

  it('reads a generated 2,000-case suite with the fast reader', () => {
    const text = generatedSuite(2_000);
    expect(readPlainYaml(text)).toBeDefined();
    const before = fastYamlStats.read;
    const suite = parseSuite(text, 'suites/scale.yaml');
    expect(fastYamlStats.read - before).toBe(1);
    expect(suite.cases).toHaveLength(2_000);
    expect(sameData(suite, parseSuite(text, 'suites/scale.yaml', { fastRead: false }))).toBe(true);
  });

  // parse-suite.test.ts pins each message; here each must also come out the same through the fast reader.
  it.each([
    ['an alias bomb', `a: &a [x, x, x, x, x, x, x, x, x]\n${'bcdefgh'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(', ')}]`).join('\n')}\n${HEAD}  - id: a\n    messages: [{ role: user, content: hi }]\n    checks: [{ kind: exact }]\n`, /^suites\/s\.yaml:2:8: YAML aliases here expand past/],
    ['an unquoted template', `${HEAD}  - id: a\n    endpoint: completion\n    prompt: {{filler words=8}}\n    checks: [{ kind: exact }]\n`, /^suites\/s\.yaml:6:13: the unquoted template \{\{filler words=8\}\}/],
    ['a duplicate id', `${HEAD}  - id: a\n    messages: [{ role: user, content: hi }]\n    checks: [{ kind: exact }]\n  - id: a\n    messages: [{ role: user, content: hi }]\n    checks: [{ kind: exact }]\n`, /^suites\/s\.yaml:7:5: \/cases\/1\/id "a" is used twice/],
    ['a depth of 70', `${HEAD}  - id: a\n    messages: ${'['.repeat(70)}${']'.repeat(70)}\n    checks: [{ kind: exact }]\n`, /^suites\/s\.yaml:5:\d+: nested more than 64 levels deep/],
    ['a schema error', `${HEAD}  - id: a\n    messages: [{ role: user, content: hi }]\n    params: { max_tokens: ten }\n    checks: [{ kind: exact }]\n`, /^suites\/s\.yaml:6:\d+: \/cases\/0\/params\/max_tokens must be integer/],
    ['a template that does not render', `${HEAD}  - id: a\n    messages: [{ role: user, content: "{{nope}}" }]\n    checks: [{ kind: exact }]\n`, /^suites\/s\.yaml:5:\d+: \/cases\/0 \{\{nope\}\}: unknown helper/],
  ])('%s', (_name, text, message) => {
    const fast = outcome(text, true);
    expect(fast).toEqual(outcome(text, false));
    expect((fast as { message: string }).message).toMatch(message);
  });

  it('on every bundled suite and 4,000 fuzzed suites', () => {
    const texts = readdirSync(BUNDLED_SUITES_DIR).map((f) => readFileSync(join(BUNDLED_SUITES_DIR, f), 'utf8'));
    texts.push(...fc.sample(mangledSuite, { numRuns: 3_000, seed: 20260205 }), ...fc.sample(writtenYaml, { numRuns: 1_000, seed: 20260206 }));
    const different = texts.filter((text) => !sameData(outcome(text, true), outcome(text, false)));
    expect(different).toEqual([]);
  }, 120_000);
});
