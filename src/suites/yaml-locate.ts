import { isNode, LineCounter, type Document } from 'yaml';

/** Turns a JSON pointer into "line:col" in the YAML source, so errors point where the user must edit. */
export function locatePointer(doc: Document, lineCounter: LineCounter, pointer: string): string | undefined {
  const path = pointer.split('/').slice(1).map((part) => {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    return /^\d+$/.test(key) ? Number(key) : key;
  });
  // Walk up to the nearest ancestor that exists: a missing property is reported at its parent.
  for (let depth = path.length; depth >= 0; depth--) {
    const node = path.length === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range) {
      const { line, col } = lineCounter.linePos(node.range[0]);
      return `${line}:${col}`;
    }
  }
  return undefined;
}

export { LineCounter };
