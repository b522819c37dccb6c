import { Ajv } from 'ajv';

// What the built-in engine accepts. Stricter than llama.cpp's server on purpose: a negative
// max_tokens or a tool_choice naming an unknown tool is a client error (400), not a 500.
const common = {
  model: { type: 'string' },
  max_tokens: { type: 'integer', minimum: 1 },
  max_completion_tokens: { type: 'integer', minimum: 1 },
  temperature: { type: 'number', minimum: 0, maximum: 2 },
  top_p: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
  seed: { type: 'integer' },
  stop: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, maxItems: 4 }, { type: 'null' }] },
  stream: { type: 'boolean' },
  stream_options: { anyOf: [{ type: 'object', properties: { include_usage: { type: 'boolean' } } }, { type: 'null' }] },
  n: { const: 1 },
} as const;

const tool = {
  type: 'object',
  required: ['type', 'function'],
  properties: {
    type: { const: 'function' },
    function: {
      type: 'object',
      required: ['name'],
      properties: { name: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' }, description: { type: 'string' }, parameters: { type: 'object' } },
    },
  },
} as const;

const message = {
  type: 'object',
  required: ['role'],
  properties: {
    role: { enum: ['system', 'developer', 'user', 'assistant', 'tool'] },
    content: { anyOf: [{ type: 'string' }, { type: 'null' }, { type: 'array' }] },
    tool_calls: { type: 'array' },
    tool_call_id: { type: 'string' },
  },
} as const;

const chatSchema = {
  type: 'object',
  required: ['messages'],
  properties: {
    ...common,
    messages: { type: 'array', minItems: 1, items: message },
    logprobs: { type: 'boolean' },
    top_logprobs: { type: 'integer', minimum: 0, maximum: 20 },
    tools: { type: 'array', items: tool },
    tool_choice: {
      anyOf: [
        { enum: ['none', 'auto', 'required'] },
        { type: 'object', required: ['type', 'function'], properties: { type: { const: 'function' }, function: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } } },
      ],
    },
    parallel_tool_calls: { type: 'boolean' },
    response_format: {
      type: 'object',
      required: ['type'],
      properties: {
        type: { enum: ['text', 'json_object', 'json_schema'] },
        json_schema: { type: 'object', required: ['schema'], properties: { name: { type: 'string' }, schema: { type: 'object' } } },
      },
    },
  },
} as const;

const completionSchema = {
  type: 'object',
  required: ['prompt'],
  properties: {
    ...common,
    prompt: { type: 'string' },
    // The legacy completions API takes the number of alternatives here, not a boolean.
    logprobs: { anyOf: [{ type: 'integer', minimum: 0, maximum: 20 }, { type: 'null' }] },
  },
} as const;

const ajv = new Ajv({ allErrors: false, strict: false });
const validators = { chat: ajv.compile(chatSchema), completion: ajv.compile(completionSchema) };

/** Returns a one-line reason the body is unacceptable, or undefined when it is fine. */
export function requestProblem(endpoint: 'chat' | 'completion', body: unknown): string | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return 'request body must be a JSON object';
  const validate = validators[endpoint];
  if (!validate(body)) {
    const error = validate.errors![0]!;
    const field = error.instancePath.slice(1).replace(/\//g, '.') || (error.params as { missingProperty?: string }).missingProperty || 'body';
    return `${field} ${error.message}`;
  }
  const request = body as { tools?: Array<{ function: { name: string } }>; tool_choice?: unknown; response_format?: { type: string; json_schema?: unknown } };
  const choice = request.tool_choice;
  if (choice && typeof choice === 'object') {
    const name = (choice as { function: { name: string } }).function.name;
    if (!request.tools?.some((t) => t.function.name === name)) return `tool_choice names "${name}", which is not among the tools`;
  }
  if ((choice === 'required' || (choice && typeof choice === 'object')) && !request.tools?.length) return 'tool_choice requires tools';
  if (request.response_format?.type === 'json_schema' && !request.response_format.json_schema) return 'response_format json_schema needs a json_schema.schema';
  return undefined;
}
