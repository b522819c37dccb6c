import type { BackendRun, CaseResult, RunSummary } from '../core/types.ts';

/** One interface for every output; every hook is optional, so a reporter implements only what it shows. */
export interface Reporter {
  onBackendProgress?(backend: string, line: string): void;
  onBackendReady?(run: BackendRun): void;
  onResult?(result: CaseResult): void;
  onRunEnd?(summary: RunSummary, runDir: string): void;
}
