import { describe, expect, it } from 'vitest';
import { onAbort } from '../../src/runners/abort-relay.ts';

describe('onAbort', () => {
  it('calls every callback still registered when the signal aborts, and only those', () => {
    const controller = new AbortController();
    const called: string[] = [];
    onAbort(controller.signal, () => called.push('a'));
    const stopB = onAbort(controller.signal, () => called.push('b'));
    onAbort(controller.signal, () => called.push('c'));
    stopB();
    controller.abort();
    expect(called).toEqual(['a', 'c']);
  });

  it('calls at once for a signal that has already aborted', () => {
    let called = 0;
    onAbort(AbortSignal.abort(), () => called++);
    expect(called).toBe(1);
  });

  it('adds one listener to the signal however many attempts register, so no MaxListeners warning', () => {
    const controller = new AbortController();
    let added = 0;
    const original = controller.signal.addEventListener.bind(controller.signal);
    controller.signal.addEventListener = ((...args: Parameters<AbortSignal['addEventListener']>) => {
      added++;
      return original(...args);
    }) as AbortSignal['addEventListener'];
    const stops = Array.from({ length: 50 }, () => onAbort(controller.signal, () => {}));
    for (const stop of stops) stop();
    onAbort(controller.signal, () => {});
    expect(added).toBe(1);
  });
});
