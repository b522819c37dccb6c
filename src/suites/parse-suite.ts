import { parseDocument } from 'yaml';
import { ConformError } from '../core/errors.ts';
import type { Case, CaseParams, CheckSpec, ChatMessage, Suite, Tolerance } from '../core/types.ts';
import { describeError, mostSpecificError, publishedSchemaValidator, valueAtPointer } from './schema-validator.ts';
import { LineCounter, locatePointer } from './yaml-locate.ts';

interface RawCaseFields {
  id?: string;
  description?: string;
  endpoint?: 'chat' | 'completion';
  messages?: ChatMessage[];
  prompt?: string;
  params?: CaseParams;
  checks?: CheckSpec[];
  tolerance?: Partial<Tolerance>;
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

/** Case fields override the suite's defaults; params merge key by key, checks replace as a whole. */
function resolveCase(defaults: RawCaseFields, raw: RawCaseFields, error: (message: string) => ConformError): Case {
  const endpoint = raw.endpoint ?? defaults.endpoint ?? 'chat';
  const messages = raw.messages ?? defaults.messages;
  const prompt = raw.prompt ?? defaults.prompt;
  if (endpoint === 'chat' && !messages) throw error('is a chat case without "messages", for example messages: [{ role: user, content: "Say hello." }]');
  if (endpoint === 'completion' && prompt === undefined) throw error('is a completion case without "prompt", for example prompt: "Once upon a time"');
  const checks = raw.checks ?? defaults.checks ?? [];
  if (checks.length === 0) throw error('has no checks; a case that checks nothing can never fail. Add for example checks: [{ kind: greedy-divergence }]');
  return {
    id: raw.id!,
    description: raw.description,
    endpoint,
    ...(endpoint === 'chat' ? { messages } : { prompt }),
    params: { ...defaults.params, ...raw.params },
    checks,
    tolerance: defaults.tolerance || raw.tolerance ? { ...defaults.tolerance, ...raw.tolerance } : undefined,
  };
}
