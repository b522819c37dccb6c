import type { Case, Sample } from '../core/types.ts';

/** Options for one request; the signal lets a run stop a case whose backend went away. */
export interface RunCaseOptions {
  signal?: AbortSignal;
}

/** The seam between conform and a backend: send one case, get one normalized Sample back. */
export interface Runner {
  readonly backend: string;
  /** Never throws for backend trouble: HTTP errors, timeouts and bad streams come back as a Sample of that kind. */
  run(testCase: Case, options?: RunCaseOptions): Promise<Sample>;
}
