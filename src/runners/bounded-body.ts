// Response bodies are read against a byte cap as they arrive, so a server that answers 100 MB to
// `max_tokens: 8` costs at most the cap in memory, never the body.

/**
 * 8 MiB. The largest honest answer is a long stream with logprobs: conform serve sent 485,934 bytes for 256
 * tokens with top_logprobs 20 (1.9 KB a token), so 8 MiB holds about 4,400 such tokens, and 40 times the
 * largest answer the bundled suites ask for (256 tokens). A cut body still costs its sample, journal line and
 * report copies, so the cap is also what one hostile answer may cost on disk, three times over.
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

export interface BoundedBody {
  /** The bytes that fit under the cap. */
  bytes: Uint8Array;
  /** True when the body went past the cap and was cut there. */
  truncated: boolean;
}

/** Reads a whole body, keeping at most `cap` bytes; `onRead` sees every read, in arrival order. */
export async function readBounded(body: AsyncIterable<Uint8Array>, cap: number, onRead?: (chunk: Uint8Array) => void): Promise<BoundedBody> {
  const kept: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    onRead?.(chunk);
    if (size + chunk.length > cap) {
      kept.push(chunk.subarray(0, cap - size));
      size = cap;
      // Leaving the loop destroys the body, which closes the connection on the rest.
      return { bytes: Buffer.concat(kept, size), truncated: true };
    }
    kept.push(chunk);
    size += chunk.length;
  }
  return { bytes: Buffer.concat(kept, size), truncated: false };
}

/** "8 MiB (8388608 bytes)": the cap as a person reads it, with the figure the config takes. */
export function describeBytes(n: number): string {
  const mib = n / (1024 * 1024);
  const human = mib >= 1 ? `${Number(mib.toFixed(mib >= 10 ? 0 : 1))} MiB` : `${Number((n / 1024).toFixed(1))} KiB`;
  return `${human} (${n} bytes)`;
}
