/**
 * Tracks whether a streamed JSON text has closed its top-level value. A random model never
 * emits EOS, so generation under a grammar must stop the moment the JSON is complete.
 */
export function createJsonCompletionTracker(): { push(text: string): boolean } {
  let depth = 0;
  let started = false;
  let inString = false;
  let escaped = false;
  let done = false;
  return {
    push(text: string): boolean {
      for (const c of text) {
        if (done) break;
        if (inString) {
          if (escaped) escaped = false;
          else if (c === '\\') escaped = true;
          else if (c === '"') inString = false;
          continue;
        }
        if (c === '"') inString = true;
        else if (c === '{' || c === '[') {
          depth++;
          started = true;
        } else if (c === '}' || c === ']') {
          depth--;
          if (started && depth === 0) done = true;
        }
      }
      return done;
    },
  };
}
