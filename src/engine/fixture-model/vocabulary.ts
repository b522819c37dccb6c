// The fixture tokenizer: a llama.cpp SPM vocabulary with byte fallback, learned from a built-in corpus so it
// needs no download and is identical on every machine.

export const TOKEN_TYPE_NORMAL = 1;
export const TOKEN_TYPE_UNKNOWN = 2;
export const TOKEN_TYPE_CONTROL = 3;
export const TOKEN_TYPE_BYTE = 6;

export const UNK_ID = 0;
export const BOS_ID = 1;
export const EOS_ID = 2;
export const IM_START_ID = 3;
export const IM_END_ID = 4;
/** Ids below this are control and byte-fallback tokens; everything from here on is printable text. */
export const FIRST_TEXT_TOKEN_ID = 5 + 256;

/** SentencePiece's visible stand-in for a space. */
export const SPACE_MARK = '\u2581';

/** Small vocabularies keep grammar-constrained decoding cheap: a grammar sampler walks every candidate token. */
export const TARGET_VOCAB_SIZE = 900;

export const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

// Written for this fixture; it only has to contain common English fragments plus the words that
// chat, JSON and tool-calling suites are likely to send.
const SEED_CORPUS = `
The quick brown fox jumps over the lazy dog. A conformance harness sends the same request to every
backend and compares what comes back. When the answers differ, the report shows where and why.
You are a helpful assistant. Please answer the question in one short sentence. What is the capital
of France? The capital of France is Paris. What is the weather like today in the city? It is sunny
and warm, with a light wind from the west. Tell me a story about a small robot who wanted to learn
how to paint. Once upon a time there was a little robot that lived in a quiet house near the sea.
Every morning it watched the light change over the water and tried to remember each color.
Write a function that returns the sum of two numbers. Here is the code you asked for, with a test.
Call the tool named get_weather with the location and the unit. The result of the tool call was
received, so now we can answer the user. Return a JSON object with the fields name, age and email.
{"name": "Alice", "age": 30, "email": "alice@example.com", "tags": ["one", "two"], "ok": true}
{"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}
The model should stop when it reaches the end of the message, or when the maximum number of tokens
has been generated. Streaming responses arrive as a sequence of events, each with a small piece of
text. The server counts prompt tokens and completion tokens and reports the usage at the end.
Numbers like 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 42, 100 and 2024 appear in many answers. Yes, no, maybe.
This is a test. That was a test too. These tests check that things work the same way everywhere.
People often ask about time, money, food, music, history, science, language and the world around
them. Good questions get good answers, and clear instructions get clear results. Thank you!
Hello, world! Hi there, how can I help you? I am sorry, but I do not know. Could you explain more?
Sure, here are three ideas: first, check the input; second, read the error; third, try again later.
`;

export interface Vocabulary {
  tokens: string[];
  scores: number[];
  types: number[];
}

/** Splits like SentencePiece pre-training: a leading space becomes part of the next word as U+2581. */
function pieces(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/ ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]/g)) out.push(m[0].replace(' ', SPACE_MARK));
  return out;
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Learns pairwise merges over the corpus; because every new token is the concatenation of two existing
 * tokens, llama.cpp's SPM merge loop can always reach it through intermediate tokens.
 */
function learnMerges(corpus: string, alphabet: ReadonlySet<string>, count: number): string[] {
  const freq = new Map<string, number>();
  for (const p of pieces(corpus.replace(/\s+/g, ' '))) freq.set(p, (freq.get(p) ?? 0) + 1);
  // Words are kept as symbol sequences; words using characters outside the alphabet cannot merge through them.
  const words = [...freq.entries()].sort((a, b) => compare(a[0], b[0])).map(([w, n]) => ({ symbols: [...w], n }));
  const known = new Set(alphabet);
  const merges: string[] = [];
  while (merges.length < count) {
    const pairs = new Map<string, { left: string; right: string; n: number }>();
    for (const { symbols, n } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const left = symbols[i]!;
        const right = symbols[i + 1]!;
        if (!known.has(left) || !known.has(right) || known.has(left + right)) continue;
        const key = `${left}\u0000${right}`;
        const entry = pairs.get(key);
        if (entry) entry.n += n;
        else pairs.set(key, { left, right, n });
      }
    }
    let best: { left: string; right: string; n: number } | undefined;
    for (const p of pairs.values()) {
      if (!best || p.n > best.n || (p.n === best.n && compare(p.left + '\u0000' + p.right, best.left + '\u0000' + best.right) < 0)) best = p;
    }
    // Pairs seen once still help (they make whole corpus words single tokens), so no minimum count.
    if (!best) break;
    const merged = best.left + best.right;
    merges.push(merged);
    known.add(merged);
    for (const w of words) {
      const next: string[] = [];
      for (let i = 0; i < w.symbols.length; i++) {
        if (w.symbols[i] === best.left && w.symbols[i + 1] === best.right) {
          next.push(merged);
          i++;
        } else next.push(w.symbols[i]!);
      }
      w.symbols = next;
    }
  }
  return merges;
}

/** Builds the full token table in a fixed order, so token ids are part of the fixture's identity. */
export function buildVocabulary(targetSize: number = TARGET_VOCAB_SIZE): Vocabulary {
  const tokens: string[] = ['<unk>', '<s>', '</s>', '<|im_start|>', '<|im_end|>'];
  const types: number[] = [TOKEN_TYPE_UNKNOWN, TOKEN_TYPE_CONTROL, TOKEN_TYPE_CONTROL, TOKEN_TYPE_CONTROL, TOKEN_TYPE_CONTROL];
  const scores: number[] = [0, 0, 0, 0, 0];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(TOKEN_TYPE_BYTE);
    scores.push(0);
  }
  const alphabet: string[] = [];
  for (let c = 0x20; c <= 0x7e; c++) alphabet.push(c === 0x20 ? SPACE_MARK : String.fromCharCode(c));
  // Single characters never win a merge (they are never the concatenation of two symbols), so their score is moot.
  for (const ch of alphabet) {
    tokens.push(ch);
    types.push(TOKEN_TYPE_NORMAL);
    scores.push(-1e6);
  }
  const merges = learnMerges(SEED_CORPUS, new Set(alphabet), Math.max(0, targetSize - tokens.length));
  merges.forEach((piece, rank) => {
    tokens.push(piece);
    types.push(TOKEN_TYPE_NORMAL);
    scores.push(-(rank + 1)); // earlier merges must win ties in the SPM priority queue
  });
  if (tokens[FIRST_TEXT_TOKEN_ID] !== SPACE_MARK) throw new Error('fixture vocabulary layout changed');
  if (new Set(tokens).size !== tokens.length) throw new Error('fixture vocabulary has duplicate tokens');
  return { tokens, scores, types };
}
