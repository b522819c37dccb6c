import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { conform, makeProject, REPO } from '../helpers/conform-cli.ts';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('API keys', () => {
  it('never reach a report, a log, a golden file or the console, even when the server echoes them', async () => {
    const key = 'sk-conform-secret-5b9e2f7a1c';
    const server = join(REPO, 'test', 'fixtures', 'servers', 'echo-key-server.mjs');
    const suite = [
      'suite: echo',
      'description: a server that echoes credentials',
      'cases:',
      '  - { id: ok, messages: [{ role: user, content: hello }], checks: [{ kind: exact }] }',
      '  - { id: refused, messages: [{ role: user, content: please fail }], checks: [{ kind: exact }] }',
      '  - { id: streamed, messages: [{ role: user, content: hello }], params: { stream: true, logprobs: true, top_logprobs: 2 }, checks: [{ kind: exact }] }',
      // Cut after 6 tokens: the answer stops inside the key, leaving its first characters at the very end.
      '  - { id: cut, messages: [{ role: user, content: hello }], params: { stream: true, logprobs: true, top_logprobs: 2, max_tokens: 6 }, checks: [{ kind: exact }] }',
    ].join('\n');
    const project = makeProject([], {
      'conform.config.yaml': `backends: [{ name: echo, class: gpu, model: m, apiKeyEnv: ECHO_API_KEY, launch: { command: "${process.execPath}", args: ["${server}", "{port}"] } }]\nsuites: ["suites/*.yaml"]\nreference: echo\n`,
    });
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(join(project, 'suites'));
    writeFileSync(join(project, 'suites', 'echo.yaml'), suite);
    const env = { ECHO_API_KEY: key };
    const record = await conform(['record'], { cwd: project, env });
    const run = await conform(['run'], { cwd: project, env });
    const backends = await conform(['backends', '--json'], { cwd: project, env });
    const outputs = [record, run, backends].flatMap((r) => [r.stdout, r.stderr]);
    expect(run.stdout).toMatch(/echo\s+echo/); // it really ran
    expect(outputs.join('\n')).toContain('[REDACTED]'); // the server did echo it
    for (const text of outputs) expect(text).not.toContain(key);
    const written = filesUnder(project).filter((f) => !f.endsWith('.yaml'));
    expect(written.some((f) => f.endsWith('samples.jsonl'))).toBe(true);
    for (const file of written) expect(readFileSync(file, 'utf8'), file).not.toContain(key);

    // Streamed, the server spread the key over tokens of 3 characters: no token, no alternative and no run
    // of tokens may still hold 3 characters of it in a row.
    const pieces = Array.from({ length: key.length - 2 }, (_, i) => key.slice(i, i + 3));
    const samples = written
      .filter((f) => f.endsWith('.json') || f.endsWith('.jsonl'))
      .flatMap((f) => (f.endsWith('.jsonl') ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : [readFileSync(f, 'utf8')]).map((text) => JSON.parse(text) as unknown))
      .flatMap(function collect(v: unknown): Array<{ tokens: Array<{ token: string; top: Array<{ token: string }> }> }> {
        if (Array.isArray(v)) return v.flatMap(collect);
        if (v === null || typeof v !== 'object') return [];
        const o = v as Record<string, unknown>;
        return [...(Array.isArray(o.tokens) && o.tokens.length ? [o as never] : []), ...Object.values(o).flatMap(collect)];
      });
    expect(samples.length).toBeGreaterThanOrEqual(4); // streamed and cut, in the golden file, the journal and summary.json
    for (const { tokens } of samples) {
      const strings = tokens.flatMap((t) => [t.token, ...t.top.map((a) => a.token)]);
      for (const piece of pieces) expect(strings.filter((s) => s.includes(piece)), piece).toEqual([]);
      const joined = tokens.map((t) => t.token).join('');
      for (const piece of pieces) expect(joined, piece).not.toContain(piece);
      expect(joined).toContain('[REDACTED]');
    }

    // The server printed its key to its log, split across two writes; the log keeps neither half.
    const logs = written.filter((f) => f.endsWith('.log'));
    expect(logs.length).toBeGreaterThan(0);
    for (const log of logs) {
      const text = readFileSync(log, 'utf8');
      expect(text).toContain('starting with ECHO_API_KEY=[REDACTED]');
      // Every request carried the key, the launcher's first-answer probe included.
      const requests = text.split('\n').filter((l) => l.includes('POST /v1/chat/completions'));
      expect(requests.length).toBeGreaterThan(0);
      for (const line of requests) expect(line).toMatch(/with authorization Bearer \[REDACTED\]$/);
      expect(text).not.toContain(key.slice(0, 7));
      expect(text).not.toContain(key.slice(7));
    }
  }, 60_000);
});
