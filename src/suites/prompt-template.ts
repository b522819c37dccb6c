import Handlebars from 'handlebars';
import { createSeededRandom } from '../core/seeded-random.ts';

// Ordinary English words: real tokenizers (and the fixture's) cut them into one or two tokens each.
const WORDS = (
  'the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were her ' +
  'all she there would their we him been has when who will more no if out so said what up its about into than them can only ' +
  'other new some could time these two may then do first any my now such like our over man me even most made after also did ' +
  'many before must through back years where much your way well down should because each just those people how too little ' +
  'state good very make world still own see men work long get here between both life being under never day same another know ' +
  'while last might us great old year off come since against go came right used take three light sea house robot story color'
).split(' ');

const NEEDLE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** Most words one {{filler}} may ask for: about 250K tokens, past any context a suite can sensibly target. */
export const MAX_FILLER_WORDS = 200_000;
/** Longest prompt one template may render to (characters); a few fillers at the word limit fit, a runaway does not. */
export const MAX_PROMPT_CHARS = 4 * 1024 * 1024;
/** Longest needle or nonce name. */
const MAX_NAME_CHARS = 200;
const HELPERS_HINT = 'the helpers are {{filler words=N seed=N}}, {{needle "name" seed=N}} and {{nonce "name" seed=N}}';

/** A template that cannot render: `fragment` is the offending `{{…}}` as written, `reason` says what to change. */
export class PromptTemplateError extends Error {
  readonly fragment: string;
  readonly reason: string;

  constructor(fragment: string, reason: string) {
    super(`${fragment}: ${reason}`);
    this.name = 'PromptTemplateError';
    this.fragment = fragment;
    this.reason = reason;
  }
}

/** A nonce that only this seed and name produce: a needle no model can guess. */
export function needleNonce(name: string, seed: number): string {
  let h = seed >>> 0;
  for (const c of name) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  const random = createSeededRandom(h).next;
  return Array.from({ length: 8 }, () => NEEDLE_ALPHABET[Math.floor(random() * NEEDLE_ALPHABET.length)]).join('');
}

/** Seeded filler text of `words` words, in sentences, identical on every machine. */
export function fillerText(words: number, seed: number): string {
  const random = createSeededRandom(seed).next;
  const out: string[] = [];
  let sentence = 0;
  for (let i = 0; i < words; i++) {
    const word = WORDS[Math.floor(random() * WORDS.length)]!;
    out.push(sentence === 0 ? word[0]!.toUpperCase() + word.slice(1) : word);
    sentence++;
    if (sentence >= 8 + Math.floor(random() * 10)) {
      out[out.length - 1] += '.';
      sentence = 0;
    }
  }
  return `${out.join(' ')}.`;
}

type Node = hbs.AST.Node & { loc?: hbs.AST.SourceLocation };
type Literal = hbs.AST.StringLiteral | hbs.AST.NumberLiteral | hbs.AST.BooleanLiteral;

const isLiteral = (node: hbs.AST.Expression): node is Literal => node.type === 'StringLiteral' || node.type === 'NumberLiteral' || node.type === 'BooleanLiteral';

/** The `{{…}}` a node came from, as written (shortened past 80 characters), for error messages. */
function sourceOf(template: string, node: Node): string {
  if (!node.loc) return '{{…}}';
  const lines = template.split('\n', node.loc.end.line);
  const offset = (p: hbs.AST.Position) => lines.slice(0, p.line - 1).reduce((sum, line) => sum + line.length + 1, 0) + p.column;
  const text = template.slice(offset(node.loc.start), offset(node.loc.end)).replace(/\s+/g, ' ');
  return text.length > 80 ? `${text.slice(0, 77)}…}}` : text;
}

/** Reads `key=value` from a helper's hash as an integer within bounds, or its default. */
function integerOption(hash: Map<string, Literal>, key: string, fallback: number, min: number, max: number, fail: (reason: string) => never): number {
  const literal = hash.get(key);
  if (!literal) return fallback;
  const value = typeof literal.value === 'string' && /^\s*-?\d+\s*$/.test(literal.value) ? Number(literal.value) : literal.value;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max)
    fail(max === Number.MAX_SAFE_INTEGER ? `${key} must be an integer, for example ${key}=3` : `${key} must be an integer from ${min} to ${max}`);
  return value as number;
}

function nameArgument(params: Literal[], helper: string, fail: (reason: string) => never): string {
  if (params.length !== 1 || params[0]!.type === 'BooleanLiteral') fail(`${helper} takes one name in quotes, for example {{${helper} "vault" seed=3}}`);
  const name = String(params[0]!.value);
  if (name.length === 0 || name.length > MAX_NAME_CHARS) fail(`the name must have 1 to ${MAX_NAME_CHARS} characters`);
  return name;
}

/** One helper call, checked before it runs: literals only, known options only, every number in bounds. */
function callHelper(template: string, node: hbs.AST.MustacheStatement): string {
  const fragment = sourceOf(template, node);
  const fail = (reason: string): never => {
    throw new PromptTemplateError(fragment, reason);
  };
  const path = node.path;
  if (path.type !== 'PathExpression' || (path as hbs.AST.PathExpression).parts.length !== 1 || (path as hbs.AST.PathExpression).data)
    return fail(`not a helper call; ${HELPERS_HINT}`);
  const helper = (path as hbs.AST.PathExpression).original;
  const params = node.params;
  const pairs = node.hash?.pairs ?? [];
  const nonLiteral = [...params, ...pairs.map((p) => p.value)].find((value) => !isLiteral(value));
  if (nonLiteral) fail('arguments must be plain numbers or quoted strings, for example words=800 seed=3');
  const hash = new Map(pairs.map((p) => [p.key, p.value as Literal]));
  const allowed = helper === 'filler' ? ['words', 'seed'] : ['seed'];
  const unknown = [...hash.keys()].find((key) => !allowed.includes(key));
  if (helper === 'filler') {
    if (params.length) fail('filler takes only words=N and seed=N, for example {{filler words=800 seed=3}}');
    if (unknown) fail(`unknown option "${unknown}"; filler takes words=N and seed=N`);
    const words = integerOption(hash, 'words', 100, 1, MAX_FILLER_WORDS, fail);
    return fillerText(words, integerOption(hash, 'seed', 1, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, fail));
  }
  if (helper === 'needle' || helper === 'nonce') {
    const name = nameArgument(params as Literal[], helper, fail);
    if (unknown) fail(`unknown option "${unknown}"; ${helper} takes seed=N`);
    const nonce = needleNonce(name, integerOption(hash, 'seed', 1, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, fail));
    return helper === 'needle' ? `The secret code for ${name} is ${nonce}.` : nonce;
  }
  return fail(`unknown helper "${helper}"; ${HELPERS_HINT}`);
}

/** Handlebars' parse error, shortened to the column and what it found there. */
function parseFailure(template: string, error: Error): PromptTemplateError {
  const [, line = '1'] = /line (\d+)/.exec(error.message) ?? [];
  const caret = error.message.split('\n')[2]?.indexOf('^') ?? -1;
  const got = /got '([^']+)'/.exec(error.message)?.[1];
  const near = template.split('\n')[Number(line) - 1] ?? '';
  const at = caret >= 0 ? near.slice(Math.max(0, caret - 20), caret + 20) : near.slice(0, 40);
  return new PromptTemplateError(`"${at.trim()}"`, `template syntax error on template line ${line}${caret >= 0 ? `, column ${caret + 1}` : ''}${got ? ` (unexpected ${got.toLowerCase()})` : ''}; ${HELPERS_HINT}`);
}

export interface RenderPromptOptions {
  /** The most characters this prompt may render to. @default MAX_PROMPT_CHARS */
  maxChars?: number;
}

/**
 * Renders a prompt template with conform's deterministic helpers, so every backend sees byte-identical
 * prompts: {{filler words=800 seed=3}}, {{needle "vault" seed=3}}, {{nonce "vault" seed=3}}.
 * Only those three, with literal arguments in bounds: nothing else in Handlebars runs (no blocks, no
 * partials, no `log`), so a suite cannot make conform loop, print or allocate without limit.
 * Plain text without "{{" is returned untouched. Throws PromptTemplateError.
 */
export function renderPrompt(template: string, options: RenderPromptOptions = {}): string {
  if (!template.includes('{{')) return template;
  const maxChars = options.maxChars ?? MAX_PROMPT_CHARS;
  let program: hbs.AST.Program;
  try {
    program = Handlebars.parse(template);
  } catch (error) {
    throw parseFailure(template, error as Error);
  }
  const parts: string[] = [];
  let length = 0;
  for (const node of program.body as Node[]) {
    let piece: string;
    if (node.type === 'ContentStatement') piece = (node as hbs.AST.ContentStatement).value;
    else if (node.type === 'CommentStatement') continue;
    else if (node.type === 'MustacheStatement') piece = callHelper(template, node as hbs.AST.MustacheStatement);
    else throw new PromptTemplateError(sourceOf(template, node), `${node.type === 'BlockStatement' ? 'blocks' : 'partials and decorators'} are not supported; ${HELPERS_HINT}`);
    length += piece.length;
    if (length > maxChars)
      throw new PromptTemplateError(node.type === 'MustacheStatement' ? sourceOf(template, node) : '{{…}}', `the prompt passes ${maxChars.toLocaleString('en-US')} characters, the most one prompt may render to`);
    parts.push(piece);
  }
  return parts.join('');
}
