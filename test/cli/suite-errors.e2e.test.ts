import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { conform, makeProject } from '../helpers/conform-cli.ts';

const HEAD = ['suite: broken', 'description: broken on purpose', 'cases:'];

/** `conform run` on a project whose only suite is `text`; nothing is ever sent to the backend. */
async function runOn(text: string) {
  const project = makeProject([], { 'conform.config.yaml': 'backends: [{ name: x, class: cpu, model: m, baseUrl: "http://127.0.0.1:9/v1" }]\nsuites: ["suites/*.yaml"]\n' });
  mkdirSync(join(project, 'suites'));
  writeFileSync(join(project, 'suites', 'x.yaml'), text);
  const result = await conform(['run'], { cwd: project });
  // Always: exit 2, one line per problem naming the file, never an internal error, a stack or a library warning.
  expect(result.exitCode, result.stderr).toBe(2);
  expect(result.stderr).not.toMatch(/internal error|Warning|\n\s+at /);
  expect(result.stdout).toBe('');
  return result.stderr.trim().split('\n');
}

describe('conform run on a broken suite file', () => {
  it('an unresolved alias, an alias bomb and an empty file', async () => {
    expect(await runOn([...HEAD, '  - id: a', '    messages: *nowhere', '    checks: [{ kind: exact }]'].join('\n'))).toEqual([
      'conform run: suites/x.yaml:5:15: YAML alias *nowhere has no anchor &nowhere before it',
    ]);
    const laughs = ['l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]', ...Array.from({ length: 8 }, (_, i) => `l${i + 1}: &l${i + 1} [${Array(9).fill(`*l${i}`).join(', ')}]`)];
    expect(await runOn([...laughs, ...HEAD].join('\n'))).toEqual([expect.stringMatching(/^conform run: suites\/x\.yaml:2:\d+: YAML aliases here expand past 10,000 nodes \(an alias bomb\?\)/)]);
    expect(await runOn('')).toEqual([expect.stringMatching(/^conform run: suites\/x\.yaml:1:1: the file is empty; a suite needs suite, description and cases, for example: /)]);
  }, 120_000);

  it('a filler of two billion words is refused at once, naming the file, line, case and helper', async () => {
    const started = Date.now();
    expect(await runOn([...HEAD, '  - id: a', '    endpoint: completion', "    prompt: 'Story: {{filler words=2000000000}}'", '    checks: [{ kind: exact }]'].join('\n'))).toEqual([
      'conform run: suites/x.yaml:6:13: /cases/0 {{filler words=2000000000}}: words must be an integer from 1 to 200000',
    ]);
    expect(Date.now() - started).toBeLessThan(60_000); // it ran 92 s and 2.2 GB before giving up
  }, 120_000);

  it('an unquoted template, as a reader of the README writes it, is a suite error and no YAML library warning', async () => {
    expect(await runOn([...HEAD, '  - id: a', '    endpoint: completion', '    prompt: {{filler words=800 seed=3}}', '    checks: [{ kind: exact }]'].join('\n'))).toEqual([
      'conform run: suites/x.yaml:6:13: the unquoted template {{filler words=800 seed=3}} is read by YAML as a mapping; put it in quotes: "{{filler words=800 seed=3}}"',
    ]);
  }, 60_000);

  it('25,715 broken cases: the first 20, then how many more', async () => {
    const cases = Array.from({ length: 25_715 }, (_, i) => `  - { id: c${i}, messages: [{ role: user, content: hi }], checks: [{ kind: exakt }] }`);
    const lines = await runOn([...HEAD, ...cases].join('\n'));
    expect(lines).toHaveLength(21);
    expect(lines[0]).toMatch(/^conform run: suites\/x\.yaml:4:\d+: \/cases\/0\/checks\/0\/kind must be equal to one of the allowed values: .*\(got "exakt"\)$/);
    for (const line of lines.slice(1, 20)) expect(line).toMatch(/^suites\/x\.yaml:\d+:\d+: \/cases\/\d+\/checks\/0\/kind must be equal/);
    expect(lines[20]).toBe('… and 25,695 more in suites/x.yaml');
  }, 180_000);
});
