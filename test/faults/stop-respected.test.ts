import { describe, expect, it } from 'vitest';
import { stopRespected } from '../../src/assertions/stop-respected.ts';
import { chatCase, input, sample } from '../assertions/samples.ts';

describe('stop-respected', () => {
  const testCase = chatCase({ params: { stop: ['ten', '\n\n'] }, checks: [{ kind: 'stop-respected' }] });
  const judge = (text: string) => stopRespected.compare(input({ sample: sample({ text }), testCase, spec: { kind: 'stop-respected' } }));
  it('passes when no stop string is in the output', () => expect(judge('one two three').status).toBe('pass'));
  it('fails when a stop string came back', () => expect(judge('one two ... ten and more')).toMatchObject({ status: 'fail', measured: 12 }));
  it('is an error on a case without stop', () =>
    expect(stopRespected.compare(input({ sample: sample({ text: 'x' }), testCase: chatCase(), spec: { kind: 'stop-respected' } })).status).toBe('error'));
});
