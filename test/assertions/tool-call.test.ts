import { describe, expect, it } from 'vitest';
import { toolCall } from '../../src/assertions/tool-call.ts';
import type { Case, Sample, ToolDefinition } from '../../src/core/types.ts';
import { call, chatCase, input, sample } from './samples.ts';

// The tools of smoke.yaml's tool-call-named case.
const TOOLS: ToolDefinition[] = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      parameters: {
        type: 'object',
        properties: { city: { type: 'string', enum: ['Lima', 'Oslo', 'Tokyo'] }, days: { type: 'integer', enum: [1, 3, 7] } },
        required: ['city', 'days'],
      },
    },
  },
  {
    type: 'function',
    function: {
      name: 'get_time',
      parameters: { type: 'object', properties: { timezone: { type: 'string', enum: ['America/Lima', 'Europe/Oslo', 'Asia/Tokyo'] } }, required: ['timezone'] },
    },
  },
];
const named = chatCase({
  id: 'tool-call-named',
  params: { max_tokens: 96, tools: TOOLS, tool_choice: { type: 'function', function: { name: 'get_time' } } },
  checks: [{ kind: 'tool-call' }],
});
const required = chatCase({ id: 'tool-call-required', params: { max_tokens: 96, tools: TOOLS, tool_choice: 'required' }, checks: [{ kind: 'tool-call' }] });

const judge = (got: Partial<Sample>, testCase: Case = named) =>
  toolCall.compare(input({ sample: sample({ finishReason: 'tool_calls', ...got }), testCase, spec: { kind: 'tool-call' } }));

describe('tool-call', () => {
  it('passes a valid call of the named tool with finish_reason tool_calls', () => {
    const v = judge({ toolCalls: [call('get_time', '{"timezone":"America/Lima"}')] });
    expect(v.status).toBe('pass');
    expect(v.message).toContain('get_time');
  });

  it('passes parallel valid calls under tool_choice required', () => {
    const v = judge({ toolCalls: [call('get_weather', '{"city":"Oslo","days":7}'), call('get_time', '{"timezone":"Europe/Oslo"}', 1)] }, required);
    expect(v.status).toBe('pass');
    expect(v.measured).toBe('2 calls');
  });

  it('fails when there is no call, and says a named tool_choice was ignored', () => {
    // What llama.cpp b4748 did: JSON content instead of a call, finish_reason length.
    const v = judge({ text: '{"response":"It is noon."}', toolCalls: [], finishReason: 'length' });
    expect(v.status).toBe('fail');
    expect(v.measured).toBe('0 calls');
    expect(v.message).toContain('no tool call');
    expect(v.message).toContain('tool_choice named get_time');
  });

  it('fails when a named tool_choice was ignored and another tool called', () => {
    const v = judge({ toolCalls: [call('get_weather', '{"city":"Lima","days":1}')] });
    expect(v.status).toBe('fail');
    expect(v.measured).toBe('get_weather');
    expect(v.threshold).toBe('get_time');
    expect(v.message).toContain('named tool_choice was ignored');
  });

  it('fails a call to a tool the request did not offer', () => {
    const v = judge({ toolCalls: [call('get_stock', '{}')] }, required);
    expect(v.status).toBe('fail');
    expect(v.message).toContain('did not offer');
  });

  it('fails arguments that do not match the tool schema, naming the pointer', () => {
    const v = judge({ toolCalls: [call('get_time', '{"timezone":"Mars/Olympus"}')] });
    expect(v.status).toBe('fail');
    expect(v.threshold).toBe('tool schema');
    expect(v.message).toContain('at "/timezone"');
  });

  it('fails arguments missing a required property', () => {
    const v = judge({ toolCalls: [call('get_weather', '{"city":"Lima"}')] }, required);
    expect(v.status).toBe('fail');
    expect(v.message).toContain('days');
  });

  it('fails arguments that are not JSON', () => {
    const v = judge({ toolCalls: [call('get_time', '{"timezone": America/Lima}')] });
    expect(v.status).toBe('fail');
    expect(v.measured).toBe('not JSON');
  });

  it('fails on the deviation tool-arguments-not-string even when the arguments validate', () => {
    const v = judge({ toolCalls: [call('get_time', '{"timezone":"America/Lima"}')], deviations: ['tool-arguments-not-string'] });
    expect(v.status).toBe('fail');
    expect(v.measured).toBe('object');
    expect(v.message).toContain('not the string the OpenAI API requires');
  });

  it('fails a valid call whose finish_reason is not tool_calls', () => {
    const v = judge({ toolCalls: [call('get_time', '{"timezone":"Asia/Tokyo"}')], finishReason: 'stop' });
    expect(v.status).toBe('fail');
    expect(v.measured).toBe('stop');
    expect(v.threshold).toBe('tool_calls');
  });
});
