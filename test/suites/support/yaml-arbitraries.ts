// Generators of YAML texts for the fast reader's differential test: tokens that mean something to a
// YAML scanner glued at random, and real data written out as YAML in several styles and then mangled.
import fc from 'fast-check';
import { dump } from 'js-yaml';
import { stringify } from 'yaml';

const SCALARS = [
  '1_000', '0b11', '0o17', '0x1F', '0x', '012', '+12', '-0', '+0', '.5', '-.5', '+.5', '1e3', '1E-3', '1.', '-1.5e+3', '.inf', '-.Inf', '+.INF', '.NaN', '.nan',
  '~', 'null', 'Null', 'NULL', 'nULL', 'true', 'True', 'TRUE', 'tRUE', 'false', 'FALSE', 'yes', 'no', 'on', 'off', 'y', 'n', 'Y', '2024-01-01', '2001-12-14t21:59:43.10-05:00',
  '12:30:00', '190:20:30', '123456789012345678901234567890', '0.1', '1_0.5', '0x_1', 'a', 'hello world', 'é', '😀', 'a#b', 'a # c', '"q"', "'s'", '"a\\"b"', '"\\u00e9\\x41\\t\\N\\_\\L\\P\\/"',
  "'it''s'", '"\\U0001F600"', '"\\e\\a\\0"', '"line\\\nnext"', '@x', '`x', '=', '<<',
];
const STRUCTURE = [
  'key: ', 'k2: ', 'id: ', '- ', '-', '  ', '    ', '\t', '\n', '\n', '\n  ', '\n    ', '\n- ', '\n  - ', '\r\n', '[', ']', '{', '}', ', ', ',', ': ', ':', '? ', '# c', ' #c',
  '|', '|-', '|+', '>', '>-', '|2', '>1-', '"', "'", '\\', '---', '--- ', '...', 'key with spaces: ', 'a:b: ', '"k": ', "'k': ", '"k":', '<<: ', '{{filler words=8}}', '"{{filler words=8}}"',
  "'{{x}}'", '\ufeff', '%', ' ', '  ', '\u00a0', '\u0085', '\u2028', '\v', '\f', '\u0007',
];

/** Unstructured text: YAML tokens and tricky scalars in any order, often valid, often not. */
export const yamlTokenText = fc
  .tuple(fc.constantFrom('', 'k: ', 'k:\n  ', 'k:\n  - ', 'a: 1\nk: ', 'k: [', 'k: {'), fc.array(fc.oneof(fc.constantFrom(...SCALARS), fc.constantFrom(...STRUCTURE)), { maxLength: 30 }))
  .map(([head, parts]) => head + parts.join(''));

const leaf = fc.oneof(fc.constantFrom(...SCALARS), fc.string({ maxLength: 10 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constantFrom('', ' x ', 'a\nb', 'a\n\nb\n', 'tab\there', 'trail ', '\ttab', 'key: v', '- x', '# not', '{{filler words=3}}'));
const data = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('list'), tie('map')),
  list: fc.array(tie('value'), { maxLength: 4 }),
  map: fc.dictionary(fc.oneof(fc.constantFrom(...SCALARS), fc.string({ maxLength: 8 })), tie('value'), { maxKeys: 4 }),
})).value;

/** Real data written as YAML by either library in block, flow or JSON style, then maybe cut, spliced or given CRLF endings. */
export const writtenYaml = fc
  .tuple(fc.oneof({ weight: 4, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), data, { minKeys: 1, maxKeys: 5 }) }, { weight: 1, arbitrary: data }), fc.nat(4), fc.nat(), fc.constantFrom(...SCALARS, ...STRUCTURE), fc.constantFrom('keep', 'keep', 'cut', 'splice', 'crlf', 'indent'))
  .map(([value, style, at, fragment, how]) => {
    const writers = [
      () => stringify(value),
      () => stringify(value, { collectionStyle: 'flow' }),
      () => dump(value, { flowLevel: 1 }),
      () => JSON.stringify(value, null, 2) ?? '',
      () => stringify(value, { defaultStringType: 'QUOTE_DOUBLE', lineWidth: 20 }),
    ];
    let text: string;
    try {
      text = writers[style]!();
    } catch {
      text = '';
    }
    const i = text.length ? at % text.length : 0;
    if (how === 'cut') return text.slice(0, i);
    if (how === 'splice') return text.slice(0, i) + fragment + text.slice(i);
    if (how === 'crlf') return text.replace(/\n/g, '\r\n');
    if (how === 'indent') return text.replace(/\n/g, '\n ');
    return text;
  });
