// A small, strict XML 1.0 parser for the JUnit tests, written without regular expressions: it walks the
// text once, checks what a well-formed document must satisfy (matching tags, legal characters, valid
// references, unique attributes, no `<` in attribute values, no `]]>` in character data) and returns a
// tree with references decoded. Enough for junit.xml; no DTDs, no namespaces.

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlNode[];
}
export type XmlNode = XmlElement | string;

const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function isLegalChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

function isNameStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || c === ':' || c.charCodeAt(0) >= 0xc0;
}

function isNameChar(c: string): boolean {
  return isNameStart(c) || (c >= '0' && c <= '9') || c === '-' || c === '.';
}

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

export class XmlError extends Error {}

export function parseXml(text: string): XmlElement {
  // Every code point must be a legal XML character, escaped or not.
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (!isLegalChar(cp)) throw new XmlError(`illegal character U+${cp.toString(16).padStart(4, '0')}`);
  }
  let pos = 0;
  const fail = (message: string): never => {
    throw new XmlError(`${message} at offset ${pos}`);
  };
  const startsWith = (s: string) => text.startsWith(s, pos);
  const skipSpace = () => {
    while (isSpace(text[pos])) pos++;
  };
  const readName = (): string => {
    const start = pos;
    if (!text[pos] || !isNameStart(text[pos]!)) fail('expected a name');
    while (text[pos] && isNameChar(text[pos]!)) pos++;
    return text.slice(start, pos);
  };
  const readReference = (): string => {
    // at '&'
    const end = text.indexOf(';', pos);
    if (end < 0 || end - pos > 12) fail('unterminated entity reference');
    const body = text.slice(pos + 1, end);
    pos = end + 1;
    if (body.startsWith('#')) {
      const hex = body[1] === 'x';
      const digits = body.slice(hex ? 2 : 1);
      if (digits.length === 0) fail('empty character reference');
      for (const d of digits) {
        const ok = hex ? (d >= '0' && d <= '9') || (d >= 'a' && d <= 'f') || (d >= 'A' && d <= 'F') : d >= '0' && d <= '9';
        if (!ok) fail(`bad character reference &${body};`);
      }
      const cp = Number.parseInt(digits, hex ? 16 : 10);
      if (!isLegalChar(cp)) fail(`character reference to an illegal character &${body};`);
      return String.fromCodePoint(cp);
    }
    const value = PREDEFINED[body];
    if (value === undefined) fail(`unknown entity &${body};`);
    return value!;
  };
  const readAttributeValue = (): string => {
    const quote = text[pos];
    if (quote !== '"' && quote !== "'") fail('expected a quoted attribute value');
    pos++;
    let value = '';
    for (;;) {
      const c = text[pos];
      if (c === undefined) fail('unterminated attribute value');
      if (c === quote) break;
      if (c === '<') fail('"<" in an attribute value');
      if (c === '&') value += readReference();
      else {
        // Attribute-value normalisation: literal whitespace becomes a space.
        value += c === '\n' || c === '\r' || c === '\t' ? ' ' : c;
        pos++;
      }
    }
    pos++;
    return value;
  };
  const skipMisc = () => {
    for (;;) {
      skipSpace();
      if (startsWith('<!--')) {
        const end = text.indexOf('-->', pos + 4);
        if (end < 0) fail('unterminated comment');
        pos = end + 3;
      } else if (startsWith('<?')) {
        const end = text.indexOf('?>', pos + 2);
        if (end < 0) fail('unterminated processing instruction');
        pos = end + 2;
      } else return;
    }
  };
  const readElement = (): XmlElement => {
    if (text[pos] !== '<') fail('expected "<"');
    pos++;
    const name = readName();
    const attributes: Record<string, string> = {};
    for (;;) {
      const hadSpace = isSpace(text[pos]);
      skipSpace();
      if (startsWith('/>')) {
        pos += 2;
        return { name, attributes, children: [] };
      }
      if (text[pos] === '>') {
        pos++;
        break;
      }
      if (!hadSpace) fail('expected whitespace before an attribute');
      const attr = readName();
      skipSpace();
      if (text[pos] !== '=') fail(`expected "=" after ${attr}`);
      pos++;
      skipSpace();
      if (Object.hasOwn(attributes, attr)) fail(`duplicate attribute ${attr}`);
      attributes[attr] = readAttributeValue();
    }
    const children: XmlNode[] = [];
    let textRun = '';
    const flush = () => {
      if (textRun) children.push(textRun);
      textRun = '';
    };
    for (;;) {
      const c = text[pos];
      if (c === undefined) fail(`unclosed <${name}>`);
      if (startsWith('</')) {
        pos += 2;
        const closing = readName();
        if (closing !== name) fail(`</${closing}> closes <${name}>`);
        skipSpace();
        if (text[pos] !== '>') fail('expected ">"');
        pos++;
        flush();
        return { name, attributes, children };
      }
      if (startsWith('<!--')) {
        const end = text.indexOf('-->', pos + 4);
        if (end < 0) fail('unterminated comment');
        pos = end + 3;
      } else if (startsWith('<![CDATA[')) {
        const end = text.indexOf(']]>', pos + 9);
        if (end < 0) fail('unterminated CDATA section');
        textRun += text.slice(pos + 9, end);
        pos = end + 3;
      } else if (c === '<') {
        flush();
        children.push(readElement());
      } else if (c === '&') textRun += readReference();
      else {
        if (startsWith(']]>')) fail('"]]>" in character data');
        textRun += c;
        pos++;
      }
    }
  };
  if (text.charCodeAt(0) === 0xfeff) pos = 1;
  if (startsWith('<?xml')) {
    const end = text.indexOf('?>', pos);
    if (end < 0) fail('unterminated XML declaration');
    pos = end + 2;
  }
  skipMisc();
  const root = readElement();
  skipMisc();
  if (pos !== text.length) fail('content after the root element');
  return root;
}

export function elements(node: XmlElement, name?: string): XmlElement[] {
  return node.children.filter((c): c is XmlElement => typeof c !== 'string' && (name === undefined || c.name === name));
}

export function textOf(node: XmlElement): string {
  return node.children.map((c) => (typeof c === 'string' ? c : textOf(c))).join('');
}
