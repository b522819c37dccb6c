// AbortSignal.any costs about 22 µs a call on Node 20 (measured: 200,000 calls), a quarter of what a whole
// request to a zero-delay server costs the client; and a listener per attempt on the caller's signal took a
// concurrent repeat of 11 requests past Node's MaxListenersExceededWarning at 10. So each signal gets one
// listener, the first time it is asked for, which calls whoever is registered when it fires.

const relays = new WeakMap<AbortSignal, Set<() => void>>();

/** Calls `callback` when `signal` aborts (at once if it already has); the returned function unregisters it. */
export function onAbort(signal: AbortSignal, callback: () => void): () => void {
  if (signal.aborted) {
    callback();
    return () => {};
  }
  let callbacks = relays.get(signal);
  if (!callbacks) {
    const registered = new Set<() => void>();
    signal.addEventListener('abort', () => {
      for (const registeredCallback of [...registered]) registeredCallback();
      registered.clear();
    }, { once: true });
    relays.set(signal, registered);
    callbacks = registered;
  }
  const mine = callbacks;
  mine.add(callback);
  return () => void mine.delete(callback);
}
