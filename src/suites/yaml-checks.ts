// What a YAML document can do to a reader before any schema sees it: syntax errors reported where the
// mistake starts, aliases that point nowhere or expand without end, nesting deep enough to exhaust the
// stack, and `{{…}}` templates that YAML silently reads as mappings. Each becomes a located problem.

import { isAlias, isCollection, isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node, type Pair } from 'yaml';

/** One thing wrong with a suite file, with its `line:col` when known. */
export interface SuiteProblem {
  where?: string;
  /** Finds `where` only when the problem is listed: locating thousands of them would cost more than parsing. */
  locate?: () => string | undefined;
  message: string;
}

/** Deepest nesting a suite may have; real suites stay under 10, and every reader after this one recurses. */
export const MAX_YAML_DEPTH = 64;
/** How many nodes aliases may expand to in all; the yaml library's own guard against alias bombs. */
export const MAX_ALIAS_EXPANSION = 10_000;

const at = (lineCounter: LineCounter, offset: number) => {
  const { line, col } = lineCounter.linePos(offset);
  return `${line}:${col}`;
};

type Visited = Node | Pair;

/** Every node in document order (keys before values), without recursion; stops after `limit` nodes. */
function* walk(root: Node | null | undefined): Generator<{ node: Visited; depth: number }> {
  const stack: Array<{ node: Visited; depth: number }> = root ? [{ node: root, depth: 1 }] : [];
  while (stack.length) {
    const top = stack.pop()!;
    yield top;
    const { node, depth } = top;
    const children: Array<Visited | null | undefined> = isPair(node) ? [node.key as Node, node.value as Node] : isMap(node) || isSeq(node) ? (node.items as Visited[]) : [];
    for (let i = children.length - 1; i >= 0; i--) {
      const child = children[i];
      if (child && typeof child === 'object') stack.push({ node: child, depth: isPair(node) ? depth : depth + 1 });
    }
  }
}

/** Syntax errors, each at the place to edit: an unclosed quote is reported where it opens, not where the file ends. */
export function syntaxProblems(doc: Document, lineCounter: LineCounter): SuiteProblem[] {
  const quoted: Array<{ start: number; end: number; quote: string }> = [];
  if (doc.errors.some((e) => e.code === 'MISSING_CHAR'))
    for (const { node } of walk(doc.contents as Node))
      if (isScalar(node) && node.range && (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE'))
        quoted.push({ start: node.range[0], end: node.range[1], quote: node.type === 'QUOTE_DOUBLE' ? '"' : "'" });
  // A parser that ran out of stack says so once per level; one problem, where the nesting starts, is enough.
  const overflow = doc.errors.filter((e) => /call stack/i.test(e.message));
  const errors = overflow.length ? [overflow.reduce((a, b) => (b.pos[0] < a.pos[0] ? b : a))] : doc.errors;
  return errors.map((error) => {
    if (overflow.length) return { where: at(lineCounter, error.pos[0]), message: `YAML syntax: nested too deep to read (the parser ran out of stack); a suite needs fewer than ${MAX_YAML_DEPTH} levels` };
    const offset = error.pos[0];
    const headline = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    const open = error.code === 'MISSING_CHAR' && /quote/.test(headline) ? quoted.filter((q) => q.start < offset && q.end >= offset).pop() : undefined;
    if (open) return { where: at(lineCounter, open.start), message: `YAML syntax: the ${open.quote}-quoted string that starts here is never closed` };
    return { where: at(lineCounter, offset), message: `YAML syntax: ${headline}` };
  });
}

/** The source text of a node, on one line and shortened, for quoting it back. */
function excerpt(text: string, node: Node): string {
  const [start, end] = node.range ?? [0, 0];
  const source = text.slice(start, Math.min(end, start + 60)).replace(/\s+/g, ' ');
  return end - start > 60 ? `${source}…` : source;
}

/**
 * Problems a well-formed document can still hold: nesting past MAX_YAML_DEPTH, an alias used before
 * (or without) its anchor, and a mapping used as a key, which is what an unquoted `{{…}}` template becomes.
 */
export function structureProblems(doc: Document, lineCounter: LineCounter, text: string): SuiteProblem[] {
  const problems: SuiteProblem[] = [];
  const anchors = new Set<string>();
  for (const { node, depth } of walk(doc.contents as Node)) {
    const offset = (isPair(node) ? (node.key as Node | null)?.range?.[0] : node.range?.[0]) ?? 0;
    if (depth > MAX_YAML_DEPTH) {
      problems.push({ where: at(lineCounter, offset), message: `nested more than ${MAX_YAML_DEPTH} levels deep; a suite needs far fewer` });
      break;
    }
    if (isPair(node) && isCollection(node.key)) {
      const key = node.key as Node;
      const start = key.range?.[0] ?? offset;
      // `prompt: {{filler words=8}}` is a flow mapping whose only key is the mapping `{filler words=8}`.
      const template = isMap(key) && start > 0 && text[start - 1] === '{';
      const source = template ? `{${excerpt(text, key)}}` : excerpt(text, key);
      const message = template
        ? `the unquoted template ${source} is read by YAML as a mapping; put it in quotes: "${source.replace(/"/g, '\\"')}"`
        : `a mapping or list used as a key (${source}); keys must be plain names`;
      problems.push({ where: at(lineCounter, template ? start - 1 : start), message });
      continue;
    }
    if (!isPair(node) && node.anchor) anchors.add(node.anchor);
    if (isAlias(node) && !anchors.has(node.source))
      problems.push({ where: at(lineCounter, offset), message: `YAML alias *${node.source} has no anchor &${node.source} before it` });
  }
  return problems;
}

/** The first alias in the document, where an expansion that went too far is reported. */
export function firstAlias(doc: Document, lineCounter: LineCounter): string | undefined {
  for (const { node } of walk(doc.contents as Node)) if (isAlias(node)) return node.range ? at(lineCounter, node.range[0]) : undefined;
  return undefined;
}
