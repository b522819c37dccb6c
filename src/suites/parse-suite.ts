import { parseDocument } from 'yaml';
import { ConformError } from '../core/errors.ts';
import type { Case, CaseParams, CheckSpec, ChatMessage, Suite, Tolerance } from '../core/types.ts';
import { renderPrompt } from './prompt-template.ts';
import { describeError, mostSpecificError, publishedSchemaValidator, valueAtPointer } from './schema-validator.ts';
import { LineCounter, locatePointer } from './yaml-locate.ts';

interface RawCaseFields {
  id?: string;
  description?: string;
  endpoint?: Case['endpoint'];
  messages?: ChatMessage[];
  prompt?: string;
  params?: CaseParams;
  checks?: CheckSpec[];
  addChecks?: CheckSpec[];
  tolerance?: Partial<Tolerance>;
  repeat?: Case['repeat'];
  requires?: Case['requires'];
  agent?: Case['agent'];
  lifecycle?: Case['lifecycle'];
}

interface RawSuite {
  suite: string;
  description: string;
  defaults?: RawCaseFields;
  cases: RawCaseFields[];
}

function suiteError(file: string, where: string | undefined, message: string): ConformError {
  return new ConformError('SUITE_INVALID', `${file}${where ? `:${where}` : ''}: ${message}`);
}

/** Parses and validates one suite file's text; every error names the file, the line and the JSON pointer. */
export function parseSuite(text: string, file: string): Suite {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const pos = yamlError.linePos?.[0] ?? lineCounter.linePos(yamlError.pos[0]);
    throw suiteError(file, pos ? `${pos.line}:${pos.col}` : undefined, `YAML syntax: ${yamlError.message.split('\n')[0]}`);
  }
  const raw = doc.toJS() as unknown;
  const validate = publishedSchemaValidator('suite');
  if (!validate(raw)) {
    const error = mostSpecificError(validate.errors ?? []);
    throw suiteError(file, locatePointer(doc, lineCounter, error.instancePath), describeError(error, valueAtPointer(raw, error.instancePath)));
  }
  const suite = raw as RawSuite;
  const seen = new Set<string>();
  const cases = suite.cases.map((rawCase, index) => {
    const pointer = `/cases/${index}`;
    const at = () => locatePointer(doc, lineCounter, pointer);
    if (seen.has(rawCase.id!)) throw suiteError(file, at(), `${pointer}/id "${rawCase.id}" is used twice; case ids must be unique in a suite`);
    seen.add(rawCase.id!);
    return resolveCase(suite.defaults ?? {}, rawCase, (message) => suiteError(file, at(), `${pointer} ${message}`));
  });
  return { name: suite.suite, description: suite.description, file, cases };
}

/** Case fields override the suite's defaults; params merge key by key, checks replace as a whole, addChecks append. */
function resolveCase(defaults: RawCaseFields, raw: RawCaseFields, error: (message: string) => ConformError): Case {
  const endpoint = raw.endpoint ?? defaults.endpoint ?? 'chat';
  const messages = renderMessages(raw.messages ?? defaults.messages, error);
  const prompt = renderTemplate(raw.prompt ?? defaults.prompt, error);
  if (endpoint !== 'completion' && !messages) throw error(`is a ${endpoint} case without "messages", for example messages: [{ role: user, content: "Say hello." }]`);
  const agent = raw.agent ?? defaults.agent;
  const lifecycle = raw.lifecycle ?? defaults.lifecycle;
  if (endpoint === 'agent' && !agent) throw error('is an agent case without "agent", for example agent: { maxTurns: 3, seed: 1, budgetMs: 60000, faults: [] }');
  if (endpoint === 'lifecycle' && !lifecycle) throw error('is a lifecycle case without "lifecycle", for example lifecycle: { start: cold }');
  if (endpoint === 'completion' && prompt === undefined) throw error('is a completion case without "prompt", for example prompt: "Once upon a time"');
  const checks = [...(raw.checks ?? defaults.checks ?? []), ...(raw.addChecks ?? [])];
  if (checks.length === 0) throw error('has no checks; a case that checks nothing can never fail. Add for example checks: [{ kind: greedy-divergence }]');
  return {
    id: raw.id!,
    description: raw.description,
    endpoint,
    ...(endpoint === 'completion' ? { prompt } : { messages }),
    params: { ...defaults.params, ...raw.params },
    checks,
    tolerance: defaults.tolerance || raw.tolerance ? { ...defaults.tolerance, ...raw.tolerance } : undefined,
    ...defined({ repeat: raw.repeat ?? defaults.repeat, requires: raw.requires ?? defaults.requires, agent, lifecycle }),
  };
}

function defined<T extends Record<string, unknown>>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Templates render once, at load: every backend then receives byte-identical prompts. */
function renderTemplate(text: string | undefined, error: (message: string) => ConformError): string | undefined {
  if (text === undefined) return undefined;
  try {
    return renderPrompt(text);
  } catch (cause) {
    throw error(`has a prompt template that does not render: ${(cause as Error).message.split('\n')[0]}`);
  }
}

function renderMessages(messages: ChatMessage[] | undefined, error: (message: string) => ConformError): ChatMessage[] | undefined {
  return messages?.map((m) => (typeof m.content === 'string' ? { ...m, content: renderTemplate(m.content, error)! } : m));
}
