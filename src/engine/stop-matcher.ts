/**
 * Finds stop strings across token boundaries and says how much text is safe to emit now:
 * text that could still become the start of a stop string is held back, as OpenAI servers do.
 */
export function createStopMatcher(stops: string[]): { push(text: string): { emit: string; stopped: boolean }; flush(): string } {
  let pending = '';
  return {
    push(text: string) {
      pending += text;
      let cut = -1;
      for (const stop of stops) {
        const at = pending.indexOf(stop);
        if (at >= 0 && (cut < 0 || at < cut)) cut = at;
      }
      if (cut >= 0) {
        const emit = pending.slice(0, cut);
        pending = '';
        return { emit, stopped: true };
      }
      let hold = 0;
      for (const stop of stops)
        for (let n = Math.min(stop.length - 1, pending.length); n > hold; n--)
          if (pending.endsWith(stop.slice(0, n))) {
            hold = n;
            break;
          }
      const emit = pending.slice(0, pending.length - hold);
      pending = pending.slice(pending.length - hold);
      return { emit, stopped: false };
    },
    flush() {
      const rest = pending;
      pending = '';
      return rest;
    },
  };
}
