// A fast first reading of a suite file with js-yaml, used only where it provably gives what the yaml
// library's Document would: plain data, no anchors, aliases, tags, directives or collection keys, and
// the YAML 1.2 core schema's scalars. Anything in doubt returns undefined and the slow, located path
// reads the file instead, so this reader never has an error message of its own.

import { FAILSAFE_SCHEMA, load, Type, type State } from 'js-yaml';
import { MAX_YAML_DEPTH } from './yaml-checks.ts';

// The YAML 1.2 core schema, exactly as the yaml library resolves plain scalars (and js-yaml's own
// CORE_SCHEMA does not: it reads 1_000, 0b11 and +.5 as numbers, and not -.5).
const NULL = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const INT = /^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$/;
const FLOAT = /^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;

const toInt = (text: string) => (text[1] === 'o' ? parseInt(text.slice(2), 8) : text[1] === 'x' ? parseInt(text.slice(2), 16) : parseInt(text, 10));
// Non-finite floats are built so that the walk below sees them and declines: suites have no use for them.
const toFloat = (text: string) => (/nan$/i.test(text) ? NaN : /inf$/i.test(text) ? (text[0] === '-' ? -Infinity : Infinity) : parseFloat(text));

const CORE_1_2 = FAILSAFE_SCHEMA.extend({
  implicit: [
    new Type('tag:yaml.org,2002:null', { kind: 'scalar', resolve: (text: string) => NULL.test(text), construct: () => null }),
    new Type('tag:yaml.org,2002:bool', { kind: 'scalar', resolve: (text: string) => BOOL.test(text), construct: (text: string) => text[0] === 't' || text[0] === 'T' }),
    new Type('tag:yaml.org,2002:int', { kind: 'scalar', resolve: (text: string) => INT.test(text), construct: toInt }),
    new Type('tag:yaml.org,2002:float', { kind: 'scalar', resolve: (text: string) => FLOAT.test(text), construct: toFloat }),
  ],
});
const IMPLICIT_TAGS = new Set([null, '?', 'tag:yaml.org,2002:null', 'tag:yaml.org,2002:bool', 'tag:yaml.org,2002:int', 'tag:yaml.org,2002:float']);

// Text the fast reader leaves to the slow one. Each is cheap to find and rare in suites; a false alarm costs only speed.
const DECLINED_TEXT = [
  /(?:^|[\s[{,:?-])[&*!]/, // an anchor, alias or tag may start here ("2 * 3" is a false alarm)
  /^%|\n%/, // a directive (%YAML, %TAG)
  /^\ufeff?---(?![ \t]*\r?\n)|\n(?:---|\.\.\.)|^\ufeff?\.\.\./, // a marker other than a lone `---` first line (js-yaml takes `---x` for one)
  /(?:^|[\s[{,])\?(?=\s|$)/, // an explicit ("complex") key
  /\r(?!\n)|[\u0085\u2028\u2029]|[^]\ufeff/, // line breaks the two libraries may count differently, a BOM inside the text
  /(?:^|\n) *\t/, // a tab in indentation, which yaml rejects and js-yaml often takes
  /(?:^|\s)-[ \t]*(?:#[^\n]*)?(?=\r?\n|$)/, // an empty list item, after which js-yaml takes a less indented item into the same list
  /[ \t](?:\r?\n|$)/, // trailing white space, which js-yaml keeps in folded quoted strings and block scalars and yaml drops
  /(?:^|\s)[|>][-+]?[1-9]/, // a block scalar with an explicit indentation, where the two disagree on trailing lines
  /["'[\]{},:|>]#/, // a comment not separated from the token before it, which yaml rejects
];
// yaml rejects an implicit key whose `:` is further than this from the key's start; js-yaml does not.
const MAX_IMPLICIT_KEY_SPAN = 1024;
// Keys whose plain-object form could differ: a null key (yaml writes "", js-yaml "null"), a collection
// key (js-yaml writes "[object Object]"), and the one key that means something to every object.
const DECLINED_KEYS = new Set(['null', '[object Object]', '__proto__']);

/** Counts fast readings, so tests can tell which path read a file. */
export const fastYamlStats = { read: 0, declined: 0 };

/** The plain JS value of a YAML text when js-yaml provably reads it as the yaml library would; undefined means use the slow path. */
export function readPlainYaml(text: string): unknown {
  const value = tryRead(text);
  if (value === undefined) fastYamlStats.declined++;
  else fastYamlStats.read++;
  return value;
}

function tryRead(text: string): unknown {
  if (DECLINED_TEXT.some((pattern) => pattern.test(text)) || hasLongLine(text)) return undefined;
  // Every collection js-yaml builds; one that is not in the result was used as a key and stringified.
  const built = new Set<object>();
  let doubt = false;
  const listener = (event: string, state: State) => {
    if (event !== 'close') return;
    const { kind, tag, anchor, result } = state as State & { kind: string | null; tag: string | null; anchor: string | null };
    if (anchor !== null || (kind === 'scalar' ? !IMPLICIT_TAGS.has(tag) : tag !== null)) doubt = true;
    else if ((kind === 'mapping' || kind === 'sequence') && result !== null && typeof result === 'object') built.add(result as object);
  };
  let value: unknown;
  try {
    value = load(text, { schema: CORE_1_2, listener, onWarning: () => void (doubt = true) });
  } catch {
    return undefined;
  }
  // A suite is a mapping; anything else is an error the slow path words, and js-yaml's reading of top-level
  // scalars (block scalars above all) is where it strays from the YAML spec.
  if (doubt || !isMapping(value) || !isPlainTree(value, built)) return undefined;
  return value;
}

const isMapping = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value);

function hasLongLine(text: string): boolean {
  if (text.length <= MAX_IMPLICIT_KEY_SPAN) return false;
  for (let start = 0; start < text.length; ) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    if (end - start > MAX_IMPLICIT_KEY_SPAN) return true;
    start = end + 1;
  }
  return false;
}

/**
 * True when the value is JSON-like data no deeper than MAX_YAML_DEPTH (counted as the slow path's
 * structure check counts it) and holds every collection js-yaml built. Iterative: nesting never costs stack.
 */
function isPlainTree(root: unknown, built: Set<object>): boolean {
  const values: unknown[] = [root];
  const depths: number[] = [1];
  let seen = 0;
  while (values.length) {
    const value = values.pop();
    const depth = depths.pop()!;
    if (depth > MAX_YAML_DEPTH) return false;
    if (value === null || typeof value === 'string' || typeof value === 'boolean') continue;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) return false;
      continue;
    }
    if (typeof value !== 'object') return false;
    if (built.has(value)) seen++;
    if (Array.isArray(value)) {
      for (const item of value) values.push(item), depths.push(depth + 1);
    } else if (Object.getPrototypeOf(value) === Object.prototype) {
      for (const key of Object.keys(value)) {
        if (DECLINED_KEYS.has(key)) return false;
        values.push((value as Record<string, unknown>)[key]), depths.push(depth + 1);
      }
    } else return false;
  }
  return seen === built.size;
}
