import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConformError } from '../../src/core/errors.ts';
import { globToRegExp, loadSuites, selectSuites } from '../../src/suites/load-suites.ts';
import { parseSuite } from '../../src/suites/parse-suite.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;

/** Parses text that must be rejected and returns the ConformError, checking the parts every suite error shares. */
function rejection(text: string, file = 'suites/bad.yaml'): ConformError {
  let caught: unknown;
  try {
    parseSuite(text, file);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ConformError);
  const error = caught as ConformError;
  expect(error.code).toBe('SUITE_INVALID');
  expect(error.message.startsWith(`${file}`)).toBe(true);
  expect(error.message).not.toContain('\n');
  return error;
}

/** Like rejection, for inputs with several problems: every line names the file, the last may count the rest. */
function rejectionLines(text: string, file = 'suites/bad.yaml'): string[] {
  let caught: unknown;
  try {
    parseSuite(text, file);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ConformError);
  expect((caught as ConformError).code).toBe('SUITE_INVALID');
  const lines = (caught as ConformError).message.split('\n');
  for (const line of lines) expect(line.startsWith(`${file}:`) || line.startsWith('… and ')).toBe(true);
  return lines;
}

const HEAD = ['suite: demo', 'description: A demo suite.', 'cases:'];

describe('parseSuite: the real smoke suite', () => {
  const suite = parseSuite(readFileSync(join(ROOT, 'suites', 'smoke.yaml'), 'utf8'), 'suites/smoke.yaml');

  it('parses with at least 10 uniquely named cases', () => {
    expect(suite.name).toBe('smoke');
    expect(suite.file).toBe('suites/smoke.yaml');
    expect(suite.description.length).toBeGreaterThan(0);
    expect(suite.cases.length).toBeGreaterThanOrEqual(10);
    expect(new Set(suite.cases.map((c) => c.id)).size).toBe(suite.cases.length);
  });

  it('gives every case an endpoint, its input and at least one check', () => {
    for (const c of suite.cases) {
      expect(c.checks.length).toBeGreaterThan(0);
      if (c.endpoint === 'chat') expect(c.messages?.length).toBeGreaterThan(0);
      else expect(typeof c.prompt).toBe('string');
    }
  });

  it('applies the suite defaults: params merged into each case', () => {
    for (const c of suite.cases) expect(c.params.temperature).toBeDefined();
    const stream = suite.cases.find((c) => c.params.stream === true);
    expect(stream?.params.max_tokens).toBeDefined();
  });
});

describe('parseSuite: defaults', () => {
  const suite = parseSuite(
    yaml(
      ...HEAD.slice(0, 2),
      'defaults:',
      '  endpoint: chat',
      '  messages: [{ role: user, content: Hi. }]',
      '  params: { max_tokens: 24, temperature: 0, logprobs: true }',
      '  checks: [{ kind: exact }, { kind: greedy-divergence }]',
      '  tolerance: { topK: 7 }',
      'cases:',
      '  - id: inherits',
      '  - id: overrides',
      '    params: { max_tokens: 8, stream: true }',
      '    checks: [{ kind: json-schema, schema: { type: object } }]',
      '    tolerance: { prefixLogprobDelta: 0.5 }',
      '  - id: completion',
      '    endpoint: completion',
      '    prompt: Once upon a time',
    ),
    'suites/demo.yaml',
  );
  const [inherits, overrides, completion] = suite.cases;

  it('gives a case without fields everything from defaults', () => {
    expect(inherits).toEqual({
      id: 'inherits',
      description: undefined,
      endpoint: 'chat',
      messages: [{ role: 'user', content: 'Hi.' }],
      params: { max_tokens: 24, temperature: 0, logprobs: true },
      checks: [{ kind: 'exact' }, { kind: 'greedy-divergence' }],
      tolerance: { topK: 7 },
    });
  });

  it('merges params key by key', () => {
    expect(overrides!.params).toEqual({ max_tokens: 8, temperature: 0, logprobs: true, stream: true });
  });

  it('replaces checks as a whole', () => {
    expect(overrides!.checks).toEqual([{ kind: 'json-schema', schema: { type: 'object' } }]);
  });

  it('merges tolerance key by key', () => {
    expect(overrides!.tolerance).toEqual({ topK: 7, prefixLogprobDelta: 0.5 });
  });

  it('keeps a prompt and no messages on a completion case', () => {
    expect(completion!.endpoint).toBe('completion');
    expect(completion!.prompt).toBe('Once upon a time');
    expect(completion!.messages).toBeUndefined();
  });

  it('leaves tolerance undefined when neither defaults nor case set one, and endpoint chat by default', () => {
    const s = parseSuite(yaml(...HEAD, '  - id: a', '    messages: [{ role: user, content: x }]', '    checks: [{ kind: exact }]'), 's.yaml');
    expect(s.cases[0]!.tolerance).toBeUndefined();
    expect(s.cases[0]!.endpoint).toBe('chat');
  });
});

describe('parseSuite: errors name the file, line:col and JSON pointer on one line', () => {
  it('YAML syntax error', () => {
    const e = rejection(yaml(...HEAD, '  - id: a', '    messages: [{ role: user, content: hi }', '    checks: [{ kind: exact }]'));
    expect(e.message).toContain('YAML syntax');
    expect(e.message).toContain('Flow sequence');
    expect(e.message).toMatch(/^suites\/bad\.yaml:6:5: /);
  });

  it('duplicate YAML keys are a YAML error', () => {
    const e = rejection(yaml(...HEAD, '  - id: a', '    id: b', '    messages: [{ role: user, content: hi }]', '    checks: [{ kind: exact }]'));
    expect(e.message).toContain('YAML syntax');
  });

  it('wrong type: max_tokens: ten', () => {
    const e = rejection(yaml(...HEAD, '  - id: a', '    messages: [{ role: user, content: hi }]', '    params: { max_tokens: ten }', '    checks: [{ kind: exact }]'));
    expect(e.message).toMatch(/^suites\/bad\.yaml:6:\d+: /);
    expect(e.message).toContain('/cases/0/params/max_tokens');
    expect(e.message).toContain('must be integer');
    expect(e.message).toContain('(got "ten")');
  });

  it('wrong type in defaults points into defaults', () => {
    const e = rejection(yaml(...HEAD.slice(0, 2), 'defaults:', '  params:', '    temperature: hot', 'cases:', '  - id: a', '    messages: [{ role: user, content: hi }]', '    checks: [{ kind: exact }]'));
    expect(e.message).toMatch(/^suites\/bad\.yaml:5:18: \/defaults\/params\/temperature must be number/);
  });

  it('unknown check kind lists the known ones', () => {
    const e = rejection(yaml(...HEAD, '  - id: a', '    messages: [{ role: user, content: hi }]', '    checks:', '      - { kind: exact }', '      - { kind: exakt }'));
    expect(e.message).toMatch(/^suites\/bad\.yaml:8:\d+: /);
    expect(e.message).toContain('/cases/0/checks/1/kind');
    expect(e.message).toContain('"greedy-divergence"');
    expect(e.message).toContain('(got "exakt")');
  });

  it('unknown property names the property', () => {
    const e = rejection(yaml(...HEAD, '  - id: ok', '    messages: [{ role: user, content: hi }]', '    checks: [{ kind: exact }]', '  - id: typo', '    mesages: [{ role: user, content: hi }]', '    checks: [{ kind: exact }]'));
    expect(e.message).toMatch(/^suites\/bad\.yaml:7:5: \/cases\/1 must NOT have additional properties: "mesages"$/);
  });

  it('unknown top-level property', () => {
    const e = rejection(yaml('suite: demo', 'description: d', 'checks: []', 'cases:', '  - id: a', '    messages: [{ role: user, content: hi }]', '    checks: [{ kind: exact }]'));
    expect(e.message).toContain('"checks"');
  });

  it('duplicate case id points at the second one', () => {
    const e = rejection(
      yaml(...HEAD, '  - id: same', '    messages: [{ role: user, content: hi }]', '    checks: [{ kind: exact }]', '  - id: same', '    messages: [{ role: user, content: again }]', '    checks: [{ kind: exact }]'),
    );
    expect(e.message).toBe('suites/bad.yaml:7:5: /cases/1/id "same" is used twice; case ids must be unique in a suite');
  });

  it('chat case without messages', () => {
    const e = rejection(yaml(...HEAD, '  - id: a', '    prompt: hi', '    checks: [{ kind: exact }]'));
    expect(e.message).toMatch(/^suites\/bad\.yaml:4:5: \/cases\/0 is a chat case without "messages"/);
  });

  it('completion case without prompt', () => {
    const e = rejection(yaml(...HEAD, '  - id: a', '    endpoint: completion', '    checks: [{ kind: exact }]'));
    expect(e.message).toMatch(/^suites\/bad\.yaml:4:5: \/cases\/0 is a completion case without "prompt"/);
  });

  it('case without checks, and with an empty checks list', () => {
    const none = rejection(yaml(...HEAD, '  - id: ok', '    messages: [{ role: user, content: hi }]', '    checks: [{ kind: exact }]', '  - id: a', '    messages: [{ role: user, content: hi }]'));
    expect(none.message).toMatch(/^suites\/bad\.yaml:7:5: \/cases\/1 has no checks/);
    const empty = rejection(yaml(...HEAD.slice(0, 2), 'defaults:', '  checks: [{ kind: exact }]', 'cases:', '  - id: a', '    messages: [{ role: user, content: hi }]', '    checks: []'));
    expect(empty.message).toMatch(/^suites\/bad\.yaml:6:5: \/cases\/0 has no checks/);
  });

  it('bad case id pattern and missing id', () => {
    expect(rejection(yaml(...HEAD, '  - id: Bad_Id', '    messages: [{ role: user, content: hi }]', '    checks: [{ kind: exact }]')).message).toMatch(
      /^suites\/bad\.yaml:4:9: \/cases\/0\/id must match pattern/,
    );
    expect(rejection(yaml(...HEAD, '  - messages: [{ role: user, content: hi }]', '    checks: [{ kind: exact }]')).message).toContain("must have required property 'id'");
  });

  it('a document that is not a mapping', () => {
    expect(rejection('- just\n- a list\n').message).toMatch(/^suites\/bad\.yaml:1:1: the document is a list; a suite is a mapping with suite, description and cases/);
  });
});

describe('globToRegExp', () => {
  it.each([
    ['suites/*.yaml', 'suites/smoke.yaml', true],
    ['suites/*.yaml', 'suites/nested/smoke.yaml', false],
    ['suites/*.yaml', 'suitesXsmoke.yaml', false],
    ['suites/*.yaml', 'suites/smoke.yml', false],
    ['suites/**/*.yaml', 'suites/smoke.yaml', true],
    ['suites/**/*.yaml', 'suites/a/b/smoke.yaml', true],
    ['**/*.yaml', 'x.yaml', true],
    ['smo?e', 'smoke', true],
    ['smo?e', 'smoooke', false],
    ['smoke', 'smoke-extra', false],
    ['tool-*', 'tool-calls', true],
    ['a+b(c).yaml', 'a+b(c).yaml', true],
    ['a+b(c).yaml', 'aab(c)xyaml', false],
  ])('%s against %s is %s', (glob, path, expected) => {
    expect(globToRegExp(glob).test(path)).toBe(expected);
  });
});

describe('loadSuites and selectSuites on a folder', () => {
  let dir: string;
  const suiteText = (name: string) => yaml(`suite: ${name}`, 'description: d', 'cases:', '  - id: a', '    messages: [{ role: user, content: hi }]', '    checks: [{ kind: exact }]');

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'conform-suites-'));
    mkdirSync(join(dir, 'suites', 'extra'), { recursive: true });
    writeFileSync(join(dir, 'suites', 'zeta.yaml'), suiteText('zeta'));
    writeFileSync(join(dir, 'suites', 'alpha.yaml'), suiteText('alpha'));
    writeFileSync(join(dir, 'suites', 'notes.txt'), 'not a suite');
    writeFileSync(join(dir, 'suites', 'extra', 'tools.yaml'), suiteText('tools'));
    mkdirSync(join(dir, 'dupes'));
    writeFileSync(join(dir, 'dupes', 'one.yaml'), suiteText('same'));
    writeFileSync(join(dir, 'dupes', 'two.yaml'), suiteText('same'));
    mkdirSync(join(dir, 'broken'));
    writeFileSync(join(dir, 'broken', 'bad.yaml'), yaml('suite: bad', 'description: d', 'cases:', '  - id: a', '    checks: [{ kind: exact }]'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds files by glob relative to the base folder, sorted by path', () => {
    const suites = loadSuites(['suites/*.yaml'], dir);
    expect(suites.map((s) => [s.name, s.file])).toEqual([
      ['alpha', 'suites/alpha.yaml'],
      ['zeta', 'suites/zeta.yaml'],
    ]);
  });

  it('descends with ** and accepts a leading ./, without listing a file twice', () => {
    const suites = loadSuites(['./suites/**/*.yaml', 'suites/*.yaml'], dir);
    expect(suites.map((s) => s.file)).toEqual(['suites/alpha.yaml', 'suites/extra/tools.yaml', 'suites/zeta.yaml']);
  });

  it('takes a plain file path as a pattern', () => {
    expect(loadSuites(['suites/extra/tools.yaml'], dir).map((s) => s.name)).toEqual(['tools']);
  });

  it('is CONFIG_INVALID when nothing matches, naming the patterns', () => {
    expect(() => loadSuites(['nowhere/*.yaml'], dir)).toThrow(ConformError);
    try {
      loadSuites(['nowhere/*.yaml'], dir);
    } catch (error) {
      expect((error as ConformError).code).toBe('CONFIG_INVALID');
      expect((error as ConformError).message).toContain('"nowhere/*.yaml"');
    }
  });

  it('is SUITE_INVALID when two files use one suite name', () => {
    expect(() => loadSuites(['dupes/*.yaml'], dir)).toThrow(/dupes\/two\.yaml: suite name "same" is already used by dupes\/one\.yaml/);
  });

  it('reports a broken file by its path relative to the base folder', () => {
    expect(() => loadSuites(['broken/*.yaml'], dir)).toThrow(/^broken\/bad\.yaml:4:5: \/cases\/0 is a chat case without "messages"/);
  });

  it('selectSuites keeps all without globs, matches name or file, and rejects a glob that matches none', () => {
    const suites = loadSuites(['suites/**/*.yaml'], dir);
    expect(selectSuites(suites, [])).toBe(suites);
    expect(selectSuites(suites, ['alpha']).map((s) => s.name)).toEqual(['alpha']);
    expect(selectSuites(suites, ['suites/extra/*']).map((s) => s.name)).toEqual(['tools']);
    expect(selectSuites(suites, ['*eta', 'tool?']).map((s) => s.name)).toEqual(['tools', 'zeta']);
    let caught: unknown;
    try {
      selectSuites(suites, ['nope*']);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConformError);
    expect((caught as ConformError).code).toBe('USAGE');
    expect((caught as ConformError).message).toContain('known suites: alpha, tools, zeta');
  });
});

describe('parseSuite: addChecks', () => {
  it('appends to the default checks instead of replacing them', () => {
    const text = ['suite: s', 'description: d', 'defaults:', '  checks: [{ kind: exact }]', 'cases:', '  - id: a', '    messages: [{ role: user, content: x }]', '    addChecks: [{ kind: degeneration }]'].join('\n');
    expect(parseSuite(text, 's.yaml').cases[0]!.checks).toEqual([{ kind: 'exact' }, { kind: 'degeneration' }]);
  });
});

describe('parseSuite: hostile and broken input is a located suite error, never a crash', () => {
  const doc = (...caseLines: string[]) => yaml(...HEAD, ...caseLines);

  it('an alias without an anchor names the alias and where it is', () => {
    const e = rejection(doc('  - id: a', '    messages: *shared', '    checks: [{ kind: exact }]'));
    expect(e.message).toBe('suites/bad.yaml:5:15: YAML alias *shared has no anchor &shared before it');
  });

  it('an alias bomb (billion laughs) stops at the expansion limit, quickly', () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) levels.push(`${'abcdefghi'[i]}: &${'abcdefghi'[i]} [${Array(9).fill(`*${'abcdefghi'[i - 1]}`).join(',')}]`);
    const started = performance.now();
    const e = rejection(yaml(...levels, ...HEAD, '  - id: a', '    messages: [{ role: user, content: hi }]', '    checks: [{ kind: exact }]'));
    expect(e.message).toMatch(/^suites\/bad\.yaml:2:8: YAML aliases here expand past 10,000 nodes \(an alias bomb\?\)/);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('nesting too deep for the parser, and deep but parseable nesting, are one problem each', () => {
    expect(rejection(`cases: ${'['.repeat(5_000)}`).message).toMatch(/^suites\/bad\.yaml:1:\d+: YAML syntax: nested too deep to read/);
    const deep = rejection(yaml(...HEAD, '  - id: a', `    messages: ${'['.repeat(100)}${']'.repeat(100)}`, '    checks: [{ kind: exact }]'));
    expect(deep.message).toMatch(/^suites\/bad\.yaml:5:\d+: nested more than 64 levels deep/);
  });

  it('binary junk and lone surrogates', () => {
    expect(rejection('\u0000\u0001\uffff\ud800abc: [').message).toMatch(/^suites\/bad\.yaml:1:\d+: YAML syntax: /);
    expect(rejection(Buffer.from([0xff, 0xfe, 0x00, 0x9c, 0x80, 0x0a]).toString('utf8')).message).toMatch(/^suites\/bad\.yaml:1:1: /);
  });

  it('an empty file says what a suite needs, with an example', () => {
    expect(rejection('').message).toBe(
      'suites/bad.yaml:1:1: the file is empty; a suite needs suite, description and cases, for example: suite: demo, description: "Says hello.", cases: [{ id: hello, messages: [{ role: user, content: Hi }], checks: [{ kind: exact }] }]',
    );
    expect(rejection('# only a comment\n').message).toMatch(/^suites\/bad\.yaml:1:1: the file is empty/);
  });

  it('an unclosed quote is reported where it opens, not where the file ends', () => {
    const lines = rejectionLines(doc('  - id: a', '    messages: [{ role: user, content: "hi }]', '    checks: [{ kind: exact }]', '  - id: b'));
    expect(lines[0]).toBe('suites/bad.yaml:5:39: YAML syntax: the "-quoted string that starts here is never closed');
  });

  it('an unquoted {{…}} template, as the README writes it inline, is a clear error and no library warning', () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const e = rejection(doc('  - id: a', '    endpoint: completion', '    prompt: {{filler words=800 seed=3}}', '    checks: [{ kind: exact }]'));
      expect(e.message).toBe('suites/bad.yaml:6:13: the unquoted template {{filler words=800 seed=3}} is read by YAML as a mapping; put it in quotes: "{{filler words=800 seed=3}}"');
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual([]);
  });

  it('template helpers are bounded, and the error names the file, the line, the case and the helper', () => {
    const started = performance.now();
    const e = rejection(doc('  - id: ok', '    messages: [{ role: user, content: hi }]', '    checks: [{ kind: exact }]', '  - id: huge', '    endpoint: completion', "    prompt: '{{filler words=2000000000}}'", '    checks: [{ kind: exact }]'));
    expect(e.message).toBe('suites/bad.yaml:9:13: /cases/1 {{filler words=2000000000}}: words must be an integer from 1 to 200000');
    expect(performance.now() - started).toBeLessThan(2_000);
    const tooMuch = Array.from({ length: 25 }, (_, i) => `{{filler words=200000 seed=${i}}}`).join(' ');
    expect(rejection(doc('  - id: a', `    messages: [{ role: user, content: '${tooMuch}' }]`, '    checks: [{ kind: exact }]')).message).toMatch(
      /^suites\/bad\.yaml:5:\d+: \/cases\/0 \{\{filler words=200000 seed=\d+\}\}: the prompt passes 4,194,304 characters, the most one prompt may render to$/,
    );
  });

  it('templates that do not render: unknown helpers, blocks, partials, log, bad arguments', () => {
    const error = (template: string) => rejection(doc('  - id: a', `    messages: [{ role: user, content: '${template}' }]`, '    checks: [{ kind: exact }]')).message.replace(/^suites\/bad\.yaml:5:\d+: /, '');
    expect(error('{{nope}}')).toMatch(/^\/cases\/0 \{\{nope\}\}: unknown helper "nope"; the helpers are /);
    expect(error('{{log "hi"}}')).toMatch(/^\/cases\/0 \{\{log "hi"\}\}: unknown helper "log"/);
    expect(error('{{#each x}}y{{/each}}')).toMatch(/blocks are not supported/);
    expect(error('{{> p}}')).toMatch(/partials and decorators are not supported/);
    expect(error('{{filler words=}}')).toMatch(/template syntax error on template line 1, column 16/);
    expect(error('{{filler words=ten}}')).toMatch(/arguments must be plain numbers or quoted strings/);
    expect(error('{{filler words=0}}')).toMatch(/words must be an integer from 1 to 200000/);
    expect(error('{{filler count=3}}')).toMatch(/unknown option "count"/);
    expect(error('{{needle}}')).toMatch(/needle takes one name in quotes/);
  });

  it('a template in defaults that does not render is reported once, at defaults', () => {
    const e = rejection(yaml(...HEAD.slice(0, 2), 'defaults:', "  messages: [{ role: user, content: '{{filler words=-5}}' }]", '  checks: [{ kind: exact }]', 'cases:', '  - id: a', '  - id: b'));
    expect(e.message).toBe('suites/bad.yaml:4:37: /defaults {{filler words=-5}}: words must be an integer from 1 to 200000');
  });

  it('thousands of errors: the first 20, then how many more', () => {
    const cases = Array.from({ length: 2_500 }, (_, i) => `  - { id: c${i}, messages: [{ role: user, content: hi }], checks: [{ kind: nope }] }`);
    const lines = rejectionLines(yaml(...HEAD, ...cases));
    expect(lines).toHaveLength(21);
    expect(lines[0]).toMatch(/^suites\/bad\.yaml:4:\d+: \/cases\/0\/checks\/0\/kind must be equal to one of the allowed values/);
    expect(lines[19]).toMatch(/^suites\/bad\.yaml:23:\d+: \/cases\/19\/checks\/0\/kind/);
    expect(lines[20]).toBe('… and 2,480 more in suites/bad.yaml');
  });

  it('errors of different stages of different cases are all listed', () => {
    const lines = rejectionLines(doc('  - id: a', "    messages: [{ role: user, content: '{{nope}}' }]", '    checks: [{ kind: exact }]', '  - id: a', '    messages: [{ role: user, content: hi }]', '    checks: [{ kind: exact }]', '  - id: c', '    checks: [{ kind: exact }]'));
    expect(lines).toEqual([
      expect.stringMatching(/^suites\/bad\.yaml:5:\d+: \/cases\/0 \{\{nope\}\}: unknown helper/),
      'suites/bad.yaml:7:5: /cases/1/id "a" is used twice; case ids must be unique in a suite',
      expect.stringMatching(/^suites\/bad\.yaml:10:5: \/cases\/2 is a chat case without "messages"/),
    ]);
  });
});
