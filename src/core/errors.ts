/** Stable codes, one per kind of trouble, so CI logs and tests can match on them. */
export type ConformErrorCode =
  | 'CONFIG_INVALID'
  | 'SUITE_INVALID'
  | 'USAGE'
  | 'GOLDEN_MISSING'
  | 'GOLDEN_INVALID'
  | 'BACKEND_UNAVAILABLE'
  | 'BACKEND_LAUNCH_FAILED'
  | 'RECORD_INVALID';

/** The one error type conform shows to users: a one-line message, a code, and the cause kept for debugging. */
export class ConformError extends Error {
  readonly code: ConformErrorCode;

  constructor(code: ConformErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConformError';
    this.code = code;
  }
}

/** Exit codes: the contract CI jobs script against. */
export const EXIT = {
  ok: 0,
  conformanceFailure: 1,
  usage: 2,
  infrastructure: 3,
} as const;

/** Config and usage mistakes exit 2; backend trouble exits 3. */
export function exitCodeFor(error: ConformError): number {
  return error.code === 'BACKEND_UNAVAILABLE' || error.code === 'BACKEND_LAUNCH_FAILED'
    ? EXIT.infrastructure
    : EXIT.usage;
}
