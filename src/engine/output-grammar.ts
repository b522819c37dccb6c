import type { GbnfJsonSchema } from 'node-llama-cpp';

interface ToolLike {
  function: { name: string; parameters?: Record<string, unknown> };
}

export interface OutputConstraint {
  /** JSON schema the output must follow, turned into a llama.cpp grammar by the engine. */
  schema: GbnfJsonSchema;
  /** Whether the finished JSON is a tool call (or a list of them) rather than content. */
  toolCalls: 'none' | 'single' | 'parallel';
}

function callSchema(tool: ToolLike): GbnfJsonSchema {
  const parameters = (tool.function.parameters ?? { type: 'object', properties: {} }) as GbnfJsonSchema;
  return {
    type: 'object',
    properties: { name: { const: tool.function.name }, arguments: parameters },
    required: ['name', 'arguments'],
  } as GbnfJsonSchema;
}

/**
 * Decides what grammar, if any, constrains the answer. Tool calls are forced through a grammar
 * built from the tools' JSON Schemas, so a named tool_choice is honoured rather than ignored.
 */
export function outputConstraint(request: {
  tools?: ToolLike[];
  tool_choice?: unknown;
  parallel_tool_calls?: boolean;
  response_format?: { type: string; json_schema?: { schema: Record<string, unknown> } };
}): OutputConstraint | undefined {
  const choice = request.tool_choice;
  const tools = request.tools ?? [];
  if (choice && typeof choice === 'object') {
    const name = (choice as { function: { name: string } }).function.name;
    return { schema: callSchema(tools.find((t) => t.function.name === name)!), toolCalls: 'single' };
  }
  if (choice === 'required' && tools.length > 0) {
    const one = tools.length === 1 ? callSchema(tools[0]!) : ({ oneOf: tools.map(callSchema) } as GbnfJsonSchema);
    if (request.parallel_tool_calls && tools.length > 1)
      return { schema: { type: 'array', items: one, minItems: 1, maxItems: tools.length } as GbnfJsonSchema, toolCalls: 'parallel' };
    return { schema: one, toolCalls: 'single' };
  }
  if (request.response_format?.type === 'json_schema')
    return { schema: request.response_format.json_schema!.schema as GbnfJsonSchema, toolCalls: 'none' };
  if (request.response_format?.type === 'json_object') return { schema: { type: 'object' } as GbnfJsonSchema, toolCalls: 'none' };
  return undefined;
}
