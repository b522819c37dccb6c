import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConformError } from '../../src/core/errors.ts';
import type { CaseResult, Sample, Suite } from '../../src/core/types.ts';
import { classifyRecording, goldenFileOf, planRecording } from '../../src/record/golden-recording.ts';
import { readGolden, writeGolden } from '../../src/record/golden-store.ts';
import { chatCase, sample } from '../assertions/samples.ts';

function result(caseId: string, fields: { sample?: Sample; skip?: string; backendError?: string }, suite = 'smoke'): CaseResult {
  const verdicts = fields.skip
    ? [{ check: 'requirements', status: 'skip' as const, message: fields.skip }]
    : fields.backendError
      ? [{ check: 'backend', status: 'error' as const, message: fields.backendError }]
      : [{ check: 'record', status: fields.sample?.kind === 'ok' ? ('pass' as const) : ('error' as const), message: 'recorded' }];
  const status = verdicts[0]!.status;
  return { id: `${suite}-${caseId}`, backend: 'ls-cpu', suite, caseId, status, verdicts, ...(fields.sample ? { sample: fields.sample } : {}) };
}

const failed = (kind: Sample['kind'], message: string, status?: number, code?: string) =>
  sample({ kind, error: { message, ...(status !== undefined ? { status } : {}), ...(code ? { code } : {}) } });

describe('classifyRecording', () => {
  it('keeps an answered sample', () => {
    const s = sample({ text: 'Hello' });
    expect(classifyRecording(result('a', { sample: s }))).toEqual({ kind: 'sample', sample: s });
  });

  it('records an answer that fails a check needing no golden as unsupported, and ignores timing checks', () => {
    const s = sample({ text: 'plain text, no tool call' });
    const ignored = { check: 'tool-call', status: 'fail' as const, message: 'no tool call in the answer (finish_reason length); tool_choice named get_time, so the server ignored it' };
    const judged = (verdicts: CaseResult['verdicts']): CaseResult => ({ ...result('a', { sample: s }), status: 'fail', verdicts });
    expect(classifyRecording(judged([{ check: 'exact', status: 'skip', message: 'no golden' }, ignored]))).toEqual({
      kind: 'unsupported',
      reason: 'answered, but failed its own tool-call check: no tool call in the answer (finish_reason length); tool_choice named get_time, so the server ignored it',
    });
    const slow = { check: 'latency-slo', status: 'fail' as const, message: 'TTFT p99 over budget' };
    expect(classifyRecording(judged([slow]))).toEqual({ kind: 'sample', sample: s });
  });

  it("records a refused request as unsupported, keeping the server's own message", () => {
    expect(classifyRecording(result('a', { sample: failed('http-error', 'logprobs is not supported with tools + stream', 400) }))).toEqual({
      kind: 'unsupported',
      reason: 'HTTP 400: logprobs is not supported with tools + stream',
    });
    expect(classifyRecording(result('a', { sample: failed('http-error', 'Cannot use tools with stream', 500) }))).toEqual({ kind: 'unsupported', reason: 'HTTP 500: Cannot use tools with stream' });
    expect(classifyRecording(result('a', { sample: failed('http-error', 'bad field', 422) })).kind).toBe('unsupported');
    expect(classifyRecording(result('a', { sample: failed('protocol-error', 'tool call arguments are not a string') }))).toEqual({
      kind: 'unsupported',
      reason: 'protocol error: tool call arguments are not a string',
    });
  });

  it('records a requirement skip (a start conform cannot measure, a prompt beyond the context) as unsupported with its reason', () => {
    const skip = 'conform does not launch ls-cpu, so it cannot measure its start';
    expect(classifyRecording(result('cold-start', { skip }))).toEqual({ kind: 'unsupported', reason: skip });
  });

  it('counts infrastructure trouble as a failed recording, not as unsupported', () => {
    for (const status of [401, 403, 404, 408, 429, 502, 503, 504])
      expect(classifyRecording(result('a', { sample: failed('http-error', 'Loading model', status) })), String(status)).toEqual({ kind: 'failed', reason: `HTTP ${status}: Loading model` });
    expect(classifyRecording(result('a', { sample: failed('timeout', 'ls-cpu did not finish answering within 120000 ms') }))).toEqual({
      kind: 'failed',
      reason: 'timeout: ls-cpu did not finish answering within 120000 ms',
    });
    expect(classifyRecording(result('a', { sample: failed('crash', 'connect ECONNREFUSED 127.0.0.1:9') })).kind).toBe('failed');
    expect(classifyRecording(result('a', { sample: failed('protocol-error', 'body over 16 MiB', undefined, 'body-too-large') })).kind).toBe('failed');
    expect(classifyRecording(result('a', { backendError: 'ls-cpu is unreachable: connect ECONNREFUSED' }))).toEqual({ kind: 'failed', reason: 'ls-cpu is unreachable: connect ECONNREFUSED' });
    expect(classifyRecording(undefined)).toEqual({ kind: 'failed', reason: 'not run (the recording was cut short)' });
  });

  it('keeps a reason to one bounded line', () => {
    const { reason } = classifyRecording(result('a', { sample: failed('http-error', `first line\n   second line ${'x'.repeat(400)}`, 500) })) as { reason: string };
    expect(reason).toMatch(/^HTTP 500: first line second line x+…$/);
    expect(reason.length).toBe(240);
  });
});

describe('planRecording and the golden file', () => {
  const suites: Suite[] = [
    { name: 'smoke', description: '', file: 'smoke.yaml', cases: [chatCase({ id: 'hello' }), chatCase({ id: 'seeded' }), chatCase({ id: 'stream-tools' })] },
    { name: 'cold-warm', description: '', file: 'cold-warm.yaml', cases: [chatCase({ id: 'cold-start' })] },
  ];
  const hello = sample({ text: 'Hello' });
  const results = [
    result('hello', { sample: hello }),
    result('seeded', { sample: failed('http-error', 'top_logprobs requires logprobs to be set to true', 400) }),
    result('stream-tools', { sample: failed('timeout', 'no answer within 120000 ms') }),
    result('cold-start', { skip: 'conform does not launch ls-cpu' }, 'cold-warm'),
  ];

  it('sorts every case of every suite, in suite order', () => {
    expect(planRecording(suites, results)).toEqual([
      { suite: 'smoke', samples: { hello }, unsupported: { seeded: 'HTTP 400: top_logprobs requires logprobs to be set to true' }, failed: { 'stream-tools': 'timeout: no answer within 120000 ms' } },
      { suite: 'cold-warm', samples: {}, unsupported: { 'cold-start': 'conform does not launch ls-cpu' }, failed: {} },
    ]);
  });

  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'conform-golden-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes unsupported cases into provenance, none into samples, and reads them back', () => {
    const provenance = { backend: 'ls-cpu', identity: { model: 'tiny' }, conformVersion: '0.1.0', recordedAt: '2026-12-01T00:00:00.000Z' };
    const [, coldWarm] = planRecording(suites, results);
    writeGolden(dir, goldenFileOf(coldWarm!, provenance));
    const golden = readGolden(dir, 'cold-warm')!;
    expect(golden.provenance.unsupported).toEqual({ 'cold-start': 'conform does not launch ls-cpu' });
    expect(golden.samples).toEqual({});
    // Nothing to report: no empty field in the file.
    const clean = goldenFileOf({ suite: 'smoke', samples: { hello }, unsupported: {}, failed: {} }, provenance);
    expect('unsupported' in clean.provenance).toBe(false);
  });

  it('rejects a golden file whose unsupported list is not case ids to reasons, naming the file', () => {
    const file = join(dir, 'smoke.json');
    for (const unsupported of [['a'], { a: 3 }, null]) {
      writeFileSync(file, JSON.stringify({ schemaVersion: 1, suite: 'smoke', provenance: { backend: 'x', identity: {}, conformVersion: '0', recordedAt: '', unsupported }, samples: {} }));
      const error = (() => {
        try {
          readGolden(dir, 'smoke');
        } catch (e) {
          return e as ConformError;
        }
        throw new Error(`accepted ${JSON.stringify(unsupported)}`);
      })();
      expect(error.code).toBe('GOLDEN_INVALID');
      expect(error.message).toBe(`${file}: /provenance/unsupported must map case ids to one-line reasons; re-record it with "conform record"`);
    }
    expect(readFileSync(file, 'utf8')).toContain('"unsupported":null');
  });
});
