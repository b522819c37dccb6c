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

const handlebars = Handlebars.create();
handlebars.registerHelper('filler', (options: Handlebars.HelperOptions) => {
  const { words = 100, seed = 1 } = options.hash as { words?: number; seed?: number };
  return fillerText(Number(words), Number(seed));
});
handlebars.registerHelper('needle', (name: string, options: Handlebars.HelperOptions) => {
  const seed = Number((options.hash as { seed?: number }).seed ?? 1);
  return `The secret code for ${name} is ${needleNonce(name, seed)}.`;
});
handlebars.registerHelper('nonce', (name: string, options: Handlebars.HelperOptions) => needleNonce(name, Number((options.hash as { seed?: number }).seed ?? 1)));

/**
 * Renders a prompt template with conform's deterministic helpers, so every backend sees byte-identical
 * prompts: {{filler words=800 seed=3}}, {{needle "vault" seed=3}}, {{nonce "vault" seed=3}}.
 * Plain text without "{{" is returned untouched.
 */
export function renderPrompt(template: string): string {
  if (!template.includes('{{')) return template;
  return handlebars.compile(template, { noEscape: true, strict: true })({});
}
