import { parseDocument } from 'yaml';
import type { ErrorObject } from 'ajv';
import { ConformError } from '../core/errors.ts';
import type { Case, CaseParams, CheckSpec, ChatMessage, Suite, Tolerance } from '../core/types.ts';
import { readPlainYaml } from './fast-yaml.ts';
import { PromptTemplateError, renderPrompt } from './prompt-template.ts';
import { describeError, firstErrorValidator, mostSpecificError, publishedSchemaValidator, valueAtPointer } from './schema-validator.ts';
import { firstAlias, MAX_ALIAS_EXPANSION, structureProblems, syntaxProblems, type SuiteProblem } from './yaml-checks.ts';
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

/** Problems listed one per line before the rest are only counted: enough to see the pattern, never a flood. */
export const MAX_LISTED_PROBLEMS = 20;
/** The most characters all of a suite's distinct rendered prompts may hold together. */
export const MAX_SUITE_PROMPT_CHARS = 64 * 1024 * 1024;

const EXAMPLE = 'for example: suite: demo, description: "Says hello.", cases: [{ id: hello, messages: [{ role: user, content: Hi }], checks: [{ kind: exact }] }]';

/** One line per problem, `file:line:col: message`, the first MAX_LISTED_PROBLEMS of them and then a count. */
function suiteError(file: string, problems: SuiteProblem[], unlisted = 0, cause?: unknown): ConformError {
  const line = (p: SuiteProblem) => `${file}:${p.where ?? p.locate?.() ?? '1:1'}: ${p.message}`;
  const lines = problems.slice(0, MAX_LISTED_PROBLEMS).map(line);
  const more = Math.max(0, problems.length - MAX_LISTED_PROBLEMS) + unlisted;
  if (more > 0) lines.push(`… and ${more.toLocaleString('en-US')} more in ${file}`);
  return new ConformError('SUITE_INVALID', lines.join('\n'), cause === undefined ? undefined : { cause });
}

/** Thrown inside the parser to stop at a stage whose problems make the next stages meaningless. */
class SuiteProblems extends Error {
  constructor(
    readonly problems: SuiteProblem[],
    readonly unlisted = 0,
  ) {
    super('suite problems');
  }
}

function stopIf(problems: SuiteProblem[], unlisted = 0): void {
  if (problems.length) throw new SuiteProblems(problems, unlisted);
}

const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 200);

/** How parseSuite reads the YAML. */
export interface ParseSuiteOptions {
  /**
   * Try the fast reader (js-yaml) first; the yaml library's Document still reads every file it declines
   * and every file with a problem, so results and errors are the same either way. Off only to measure.
   * @default true
   */
  fastRead?: boolean;
}

/**
 * Parses and validates one suite file's text. Whatever the text holds (broken YAML, alias bombs, deep
 * nesting, binary junk, wrong types, templates that do not render), the only error that comes out is a
 * ConformError('SUITE_INVALID') whose lines each name the file, `line:col` and the JSON pointer.
 */
export function parseSuite(text: string, file: string, options: ParseSuiteOptions = {}): Suite {
  try {
    return parseOrThrow(text, file, options.fastRead ?? true);
  } catch (error) {
    if (error instanceof SuiteProblems) throw suiteError(file, error.problems, error.unlisted);
    if (error instanceof ConformError) throw error;
    // Anything the checks below did not foresee is still a property of this file, never a crash of conform.
    throw suiteError(file, [{ where: '1:1', message: `could not be read as a suite: ${firstLine(error)}` }], 0, error);
  }
}

/** Finds the `line:col` of a JSON pointer, only when the problem there is listed. */
type Locate = (pointer: string) => () => string | undefined;

function parseOrThrow(text: string, file: string, fastRead: boolean): Suite {
  const plain = fastRead ? readPlainYaml(text) : undefined;
  if (plain !== undefined) {
    try {
      return suiteFrom(plain, file, () => () => undefined);
    } catch {
      // Any problem at all is found again, and located, by the slow path, so its message is the one users always get.
    }
  }
  const { raw, locate } = readLocated(text);
  return suiteFrom(raw, file, locate);
}

/** The slow reading: the yaml library's Document, whose nodes know where they are in the text. */
function readLocated(text: string): { raw: unknown; locate: Locate } {
  const lineCounter = new LineCounter();
  // logLevel 'error': the library's own warnings must never reach the user; what matters becomes a problem below.
  const doc = parseDocument(text, { lineCounter, logLevel: 'error', prettyErrors: false });
  stopIf(syntaxProblems(doc, lineCounter));
  stopIf(structureProblems(doc, lineCounter, text));
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_EXPANSION });
  } catch (error) {
    if (!/alias/i.test(firstLine(error))) throw error;
    stopIf([{ where: firstAlias(doc, lineCounter), message: `YAML aliases here expand past ${MAX_ALIAS_EXPANSION.toLocaleString('en-US')} nodes (an alias bomb?); write the shared values out or use fewer aliases` }]);
  }
  return { raw, locate: (pointer) => () => locatePointer(doc, lineCounter, pointer) };
}

/** Checks a document's plain value against the suite schema and resolves its cases. */
function suiteFrom(raw: unknown, file: string, locate: Locate): Suite {
  if (raw === null || raw === undefined) stopIf([{ where: '1:1', message: `the file is empty; a suite needs suite, description and cases, ${EXAMPLE}` }]);
  if (typeof raw !== 'object' || Array.isArray(raw))
    stopIf([{ locate: locate(''), message: `the document is ${Array.isArray(raw) ? 'a list' : `the ${typeof raw} ${JSON.stringify(raw).slice(0, 40)}`}; a suite is a mapping with suite, description and cases, ${EXAMPLE}` }]);
  if (!firstErrorValidator('suite')(raw)) {
    const { problems, unlisted } = schemaProblems(raw as Record<string, unknown>, locate);
    stopIf(problems, unlisted);
  }
  const suite = raw as RawSuite;
  const problems: SuiteProblem[] = [];
  const render = createRenderer(locate, problems);
  const seen = new Set<string>();
  const cases: Case[] = [];
  suite.cases.forEach((rawCase, index) => {
    const pointer = `/cases/${index}`;
    if (seen.has(rawCase.id!)) return void problems.push({ locate: locate(pointer), message: `${pointer}/id "${rawCase.id}" is used twice; case ids must be unique in a suite` });
    seen.add(rawCase.id!);
    const resolved = resolveCase(suite.defaults ?? {}, rawCase, pointer, render, (message) => problems.push({ locate: locate(pointer), message: `${pointer} ${message}` }));
    if (resolved) cases.push(resolved);
  });
  stopIf(dedupe(problems));
  return { name: suite.suite, description: suite.description, file, cases };
}

/**
 * One problem per broken case (or top-level field): its most specific schema error. Collecting every
 * error costs about a millisecond per broken case, so only the cases that will be listed are explained
 * and the rest, found by a first-error validator, are counted.
 */
function schemaProblems(raw: Record<string, unknown>, locate: Locate): { problems: SuiteProblem[]; unlisted: number } {
  const allCases = Array.isArray(raw.cases) ? (raw.cases as unknown[]) : undefined;
  const validCase = firstErrorValidator('suite', 'case');
  const broken = allCases ? allCases.flatMap((c, index) => (validCase(c) ? [] : [index])) : [];
  const explained = broken.slice(0, MAX_LISTED_PROBLEMS);
  // The listed broken cases stand in for all cases; an otherwise empty list keeps its own minItems error.
  const probe = allCases && explained.length ? { ...raw, cases: explained.map((index) => allCases[index]) } : raw;
  const validate = publishedSchemaValidator('suite');
  validate(probe);
  const groups = new Map<string, ErrorObject[]>();
  for (const found of validate.errors ?? []) {
    const parts = found.instancePath.split('/');
    if (probe !== raw && parts[1] === 'cases' && parts[2] !== undefined) parts[2] = String(explained[Number(parts[2])]);
    const error = { ...found, instancePath: parts.join('/') };
    const key = parts.slice(0, parts[1] === 'cases' ? 3 : 2).join('/');
    const group = groups.get(key);
    if (group) group.push(error);
    else groups.set(key, [error]);
  }
  const problems = [...groups.values()].map((group) => {
    const error = mostSpecificError(group);
    return { locate: locate(error.instancePath), message: describeError(error, valueAtPointer(raw, error.instancePath)) };
  });
  return { problems, unlisted: broken.length - explained.length };
}

function dedupe(problems: SuiteProblem[]): SuiteProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = p.message;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

type Render = (text: string | undefined, pointer: string, owner: string) => string | undefined | typeof FAILED;
const FAILED = Symbol('template failed');

/**
 * Templates render once, at load, so every backend receives byte-identical prompts. A template shared
 * through defaults renders once; all distinct prompts together stay under MAX_SUITE_PROMPT_CHARS.
 */
function createRenderer(locate: Locate, problems: SuiteProblem[]): Render {
  const rendered = new Map<string, string | PromptTemplateError>();
  let total = 0;
  return (text, pointer, owner) => {
    if (text === undefined) return undefined;
    let result = rendered.get(text);
    if (result === undefined) {
      try {
        result = renderPrompt(text);
        total += result.length;
        if (total > MAX_SUITE_PROMPT_CHARS) result = new PromptTemplateError('{{…}}', `the suite's prompts pass ${MAX_SUITE_PROMPT_CHARS.toLocaleString('en-US')} characters in all; split it into several suites`);
      } catch (error) {
        result = error instanceof PromptTemplateError ? error : new PromptTemplateError('{{…}}', firstLine(error));
      }
      rendered.set(text, result);
    }
    if (typeof result === 'string') return result;
    problems.push({ locate: locate(pointer), message: `${owner} ${result.fragment}: ${result.reason}` });
    return FAILED;
  };
}

/** Case fields override the suite's defaults; params merge key by key, checks replace as a whole, addChecks append. */
function resolveCase(defaults: RawCaseFields, raw: RawCaseFields, pointer: string, render: Render, problem: (message: string) => void): Case | undefined {
  const endpoint = raw.endpoint ?? defaults.endpoint ?? 'chat';
  const owner = (field: keyof RawCaseFields) => (raw[field] !== undefined ? pointer : '/defaults');
  const rawMessages = raw.messages ?? defaults.messages;
  let broken = false;
  const messages = rawMessages?.map((m, i) => {
    if (typeof m.content !== 'string') return m;
    const content = render(m.content, `${owner('messages')}/messages/${i}/content`, owner('messages'));
    if (content === FAILED) broken = true;
    return { ...m, content: content as string };
  });
  const prompt = render(raw.prompt ?? defaults.prompt, `${owner('prompt')}/prompt`, owner('prompt'));
  if (prompt === FAILED || broken) return undefined;
  const agent = raw.agent ?? defaults.agent;
  const lifecycle = raw.lifecycle ?? defaults.lifecycle;
  const checks = [...(raw.checks ?? defaults.checks ?? []), ...(raw.addChecks ?? [])];
  if (endpoint !== 'completion' && !messages) problem(`is a ${endpoint} case without "messages", for example messages: [{ role: user, content: "Say hello." }]`);
  else if (endpoint === 'agent' && !agent) problem('is an agent case without "agent", for example agent: { maxTurns: 3, seed: 1, budgetMs: 60000, faults: [] }');
  else if (endpoint === 'lifecycle' && !lifecycle) problem('is a lifecycle case without "lifecycle", for example lifecycle: { start: cold }');
  else if (endpoint === 'completion' && prompt === undefined) problem('is a completion case without "prompt", for example prompt: "Once upon a time"');
  else if (checks.length === 0) problem('has no checks; a case that checks nothing can never fail. Add for example checks: [{ kind: greedy-divergence }]');
  else
    return {
      id: raw.id!,
      description: raw.description,
      endpoint,
      ...(endpoint === 'completion' ? { prompt: prompt as string } : { messages }),
      params: { ...defaults.params, ...raw.params },
      checks,
      tolerance: defaults.tolerance || raw.tolerance ? { ...defaults.tolerance, ...raw.tolerance } : undefined,
      ...defined({ repeat: raw.repeat ?? defaults.repeat, requires: raw.requires ?? defaults.requires, agent, lifecycle }),
    };
  return undefined;
}

function defined<T extends Record<string, unknown>>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<T>;
}
