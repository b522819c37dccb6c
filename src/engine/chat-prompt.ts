import { resolveChatWrapper, type ChatHistoryItem, type ChatWrapper, type LlamaModel, type Token } from 'node-llama-cpp';

export interface IncomingMessage {
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool';
  content?: string | null | Array<{ type: string; text?: string }>;
  tool_calls?: Array<{ id?: string; function?: { name?: string; arguments?: unknown } }>;
  tool_call_id?: string;
}

interface ToolLike {
  function: { name: string; description?: string; parameters?: unknown };
}

function contentText(content: IncomingMessage['content']): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((part) => part.text ?? '').join('');
  return '';
}

/**
 * Maps OpenAI messages onto the model's own chat template. Tool traffic is rendered as plain
 * text turns: the grammar, not the template, is what makes a tool call well formed here.
 */
export function chatHistory(messages: IncomingMessage[], tools: ToolLike[] | undefined): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  if (tools?.length) {
    const listing = tools.map((t) => JSON.stringify({ name: t.function.name, description: t.function.description, parameters: t.function.parameters }));
    history.push({ type: 'system', text: `Tools you can call, answering with {"name": ..., "arguments": {...}}:\n${listing.join('\n')}` });
  }
  for (const message of messages) {
    const text = contentText(message.content);
    if (message.role === 'system' || message.role === 'developer') history.push({ type: 'system', text });
    else if (message.role === 'user') history.push({ type: 'user', text });
    else if (message.role === 'tool') history.push({ type: 'user', text: `Tool result${message.tool_call_id ? ` (${message.tool_call_id})` : ''}: ${text}` });
    else {
      const calls = (message.tool_calls ?? []).map((c) => JSON.stringify({ name: c.function?.name, arguments: c.function?.arguments }));
      history.push({ type: 'model', response: [[text, ...calls].filter(Boolean).join('\n')] });
    }
  }
  history.push({ type: 'model', response: [] });
  return history;
}

/** Resolves the chat wrapper once per model: it reads the GGUF's own chat template. */
export function createChatTokenizer(model: LlamaModel): (messages: IncomingMessage[], tools?: ToolLike[]) => Token[] {
  const wrapper: ChatWrapper = resolveChatWrapper(model);
  return (messages, tools) => {
    const { contextText } = wrapper.generateContextState({ chatHistory: chatHistory(messages, tools) });
    return contextText.tokenize(model.tokenizer);
  };
}
