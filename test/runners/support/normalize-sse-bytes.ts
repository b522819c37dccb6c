// Drives the SSE parser and stream accumulator over raw body bytes, as the runner does, without a network.

import { createStreamAccumulator, type Endpoint, type StreamAccumulator } from '../../../src/runners/normalize.ts';
import { createSseParser } from '../../../src/runners/sse-parser.ts';

/** Normalizes an SSE payload delivered as the given pieces; each piece "arrives" at its index in ms. */
export function normalizeSseBytes(pieces: Uint8Array[], endpoint: Endpoint): ReturnType<StreamAccumulator['finish']> {
  const parser = createSseParser();
  const accumulator = createStreamAccumulator(endpoint);
  pieces.forEach((piece, i) => {
    for (const event of parser.push(piece)) accumulator.onData(event.data, i);
  });
  return accumulator.finish(pieces.length, parser.finish());
}
