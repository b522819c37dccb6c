// Generators of hostile suite files for the parser fuzz test: YAML-ish fragments glued at random, and
// suite-shaped documents with wrong types, templates and aliases, stringified and then mangled.
import fc from 'fast-check';
import { stringify } from 'yaml';

const FRAGMENTS = [
  'suite: ', 'description: ', 'cases:', 'defaults:', 'params:', 'checks:', 'messages:', 'prompt: ', 'endpoint: ', 'id: ',
  '- ', '  ', '    ', '\n', '\n  - ', '\r\n', '\t', ': ', ', ', '[', ']', '{', '}', '"', "'", '#', '!', '!!str ', '!!map ', '|', '>-', '?', '---', '...', '%YAML 1.2\n',
  '&a ', '&b ', '*a', '*b', '*missing', '<<: *a', '{{', '}}', '{{filler words=2000000000}}', '{{filler words=8 seed=1}}', '{{needle "v" seed=2}}',
  '{{#each x}}', '{{/each}}', '{{> p}}', '{{log "x"}}', '{{nope}}', '{{filler words=}}', 'kind: exact', 'kind: greedy-divergence', 'role: user', 'content: ',
  '1e999', '-0', 'null', '~', 'true', '0x1F', '.nan', '__proto__', 'constructor', '\u0000', '\u0007', '\uffff', '\ud800', '\udc00', '😀', '\u2028', '\ufeff',
];

/** Unstructured text: fragments that mean something to YAML or to conform, in any order. */
export const fragmentText = fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 24 }).map((parts) => parts.join(''));

/** Arbitrary Unicode, lone surrogates and control characters included. */
export const junkText = fc.oneof(fc.string({ maxLength: 80, unit: 'binary' }), fc.string({ maxLength: 80, unit: 'grapheme' }));

const scalar = fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.constantFrom(-0, 1e308, Number.NaN, 0.5), fc.boolean(), fc.constant(null), fc.constantFrom('{{filler words=3}}', '{{filler words=-1}}', '{{needle "x"}}', '{{nope}}', 'Hi.'));
const anyValue = fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 6 }), scalar, { maxKeys: 3 }));
// Mostly right, sometimes wrong: most documents get past the schema and reach cases and templates.
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 30, arbitrary: arb }, { weight: 1, arbitrary: anyValue }, { weight: 1, arbitrary: fc.constant(undefined) });

const check = fc.record({ kind: maybe(fc.constantFrom('exact', 'greedy-divergence', 'distribution', 'degeneration', 'nope')) });
const message = fc.record({ role: maybe(fc.constantFrom('user', 'system', 'assistant')), content: maybe(fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('{{filler words=5 seed=2}} go', '{{filler words=2000000000}}', '{{needle "v" seed=x}}'))) });
const testCase = fc.record(
  {
    id: maybe(fc.constantFrom('a', 'b', 'c-1', 'long-case-id', 'Bad_Id')),
    endpoint: fc.option(maybe(fc.constantFrom('chat', 'completion', 'agent', 'lifecycle')), { nil: undefined, freq: 2 }),
    messages: maybe(fc.array(message, { minLength: 1, maxLength: 1 })),
    prompt: fc.option(maybe(fc.constantFrom('Once', '{{filler words=4}}', '{{filler words=4000000}}', '{{#if x}}y{{/if}}')), { nil: undefined, freq: 2 }),
    params: fc.option(fc.record({ max_tokens: maybe(fc.integer({ min: 1, max: 64 })), temperature: maybe(fc.constantFrom(0, 0.5)) }, { requiredKeys: [] }), { nil: undefined, freq: 3 }),
    checks: maybe(fc.array(check, { minLength: 1, maxLength: 1 })),
    addChecks: fc.option(fc.array(check, { maxLength: 1 }), { nil: undefined, freq: 4 }),
  },
  { requiredKeys: ['id'] },
);
const suiteShaped = fc.record(
  { suite: maybe(fc.constantFrom('demo', 'x-y', 'Bad_Name')), description: maybe(fc.constantFrom('d', 'A suite.', '')), defaults: fc.option(testCase, { nil: undefined, freq: 8 }), cases: maybe(fc.array(testCase, { minLength: 1, maxLength: 2, size: 'xsmall' })) },
  { requiredKeys: ['suite', 'description', 'cases'] },
);

/** A suite-shaped document as YAML, then maybe cut short, or with a fragment spliced in somewhere. */
export const mangledSuite = fc
  .tuple(suiteShaped, fc.nat(2), fc.nat(), fc.constantFrom(...FRAGMENTS), fc.constantFrom('keep', 'keep', 'keep', 'cut', 'splice', 'alias'))
  .map(([value, style, at, fragment, how]) => {
    // JSON is YAML too (flow style), and far cheaper to write than the yaml library's block style.
    const text = style === 0 ? stringify(value) : JSON.stringify(value, null, style === 1 ? undefined : 1) ?? '';
    const i = text.length ? at % text.length : 0;
    if (how === 'cut') return text.slice(0, i);
    if (how === 'splice') return text.slice(0, i) + fragment + text.slice(i);
    if (how === 'alias') return `${text}\nx: &a [1]\ny: *a\nz: *nowhere\n`;
    return text;
  });
