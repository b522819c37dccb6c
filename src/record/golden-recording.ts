// What `conform record` makes of one backend's results: per suite, the samples to approve, the cases
// the backend cannot serve (a caveat in the golden's provenance, not a hole), and the cases that
// failed to record for reasons that say nothing about the backend's abilities (a timeout, a refused
// connection, a busy server). Pure: results in, a plan for the golden files out.

import type { CaseResult, GoldenFile, GoldenProvenance, Sample, Suite } from '../core/types.ts';

/** Statuses that mean unreachable, not authorised, wrong URL or busy: the same request may succeed another time (SHARED-TYPES 5). */
const INFRASTRUCTURE_STATUSES = new Set([401, 403, 404, 408, 429, 502, 503, 504]);

export type CaseRecording = { kind: 'sample'; sample: Sample } | { kind: 'unsupported'; reason: string } | { kind: 'failed'; reason: string };

/** One suite's share of a recording; `failed` empty means its golden file can be written. */
export interface SuiteRecording {
  suite: string;
  samples: Record<string, Sample>;
  unsupported: Record<string, string>;
  failed: Record<string, string>;
}

const MAX_REASON = 240;

/** Checks that judge how fast, not what: a slow reference still gives a usable golden. */
const TIMING_CHECKS: ReadonlySet<string> = new Set(['latency-slo', 'start-budget']);

/** Collapses a message to one line of bounded length, so a server's stack dump cannot flood the provenance. */
export function oneLineReason(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_REASON ? `${flat.slice(0, MAX_REASON - 1)}…` : flat;
}

/** Did the backend answer at all (even with a refusal)? A backend that never answered has nothing to record. */
export function backendAnswered(sample: Sample | undefined): boolean {
  return sample !== undefined && (sample.kind === 'ok' || sample.kind === 'http-error' || sample.kind === 'protocol-error');
}

/**
 * Sorts one result: a sample to approve; unsupported, when the backend refused the request (an HTTP
 * client or server error, a broken protocol), answered but failed a check that needs no golden (it
 * ignored tool_choice), or a requirement excludes it (a lifecycle case on a server conform does not
 * launch, a prompt beyond its context); or failed, when trouble on the way
 * (timeout, connection, a busy or unauthorised answer, a body cut at the cap) kept the answer away.
 */
export function classifyRecording(result: CaseResult | undefined): CaseRecording {
  const sorted = classify(result);
  return sorted.kind === 'sample' ? sorted : { kind: sorted.kind, reason: oneLineReason(sorted.reason) };
}

function classify(result: CaseResult | undefined): CaseRecording {
  if (!result) return { kind: 'failed', reason: 'not run (the recording was cut short)' };
  const sample = result.sample;
  if (!sample) {
    const verdict = result.verdicts[0];
    const reason = verdict?.message ?? result.status;
    return result.status === 'skip' && verdict?.check === 'requirements' ? { kind: 'unsupported', reason } : { kind: 'failed', reason };
  }
  const message = sample.error?.message ?? '';
  switch (sample.kind) {
    case 'ok': {
      // A sample that fails the checks needing no golden (a tool_choice the reference ignored) would make
      // every other backend fail for being right; timing checks say nothing about the answer itself.
      const failed = result.verdicts.find((v) => v.status === 'fail' && !TIMING_CHECKS.has(v.check));
      return failed ? { kind: 'unsupported', reason: `answered, but failed its own ${failed.check} check: ${failed.message}` } : { kind: 'sample', sample };
    }
    case 'http-error': {
      const status = sample.error?.status;
      const reason = `HTTP ${status ?? '?'}: ${message || 'no message'}`;
      return status !== undefined && !INFRASTRUCTURE_STATUSES.has(status) ? { kind: 'unsupported', reason } : { kind: 'failed', reason };
    }
    case 'protocol-error':
      return sample.error?.code === 'body-too-large' ? { kind: 'failed', reason: `answer cut at the body cap: ${message}` } : { kind: 'unsupported', reason: `protocol error: ${message}` };
    default:
      return { kind: 'failed', reason: `${sample.kind}: ${message}` };
  }
}

/** Groups one backend's results by suite, in suite and case order, each case sorted by classifyRecording. */
export function planRecording(suites: Suite[], results: CaseResult[]): SuiteRecording[] {
  const byCase = new Map(results.map((r) => [`${r.suite}\u0000${r.caseId}`, r]));
  return suites.map((suite) => {
    const recording: SuiteRecording = { suite: suite.name, samples: {}, unsupported: {}, failed: {} };
    for (const testCase of suite.cases) {
      const outcome = classifyRecording(byCase.get(`${suite.name}\u0000${testCase.id}`));
      if (outcome.kind === 'sample') recording.samples[testCase.id] = outcome.sample;
      else recording[outcome.kind][testCase.id] = outcome.reason;
    }
    return recording;
  });
}

/** The golden file of a suite recording that has no failed case; `unsupported` is left out when empty. */
export function goldenFileOf(recording: SuiteRecording, provenance: Omit<GoldenProvenance, 'unsupported'>): GoldenFile {
  const unsupported = Object.keys(recording.unsupported).length > 0 ? { unsupported: recording.unsupported } : {};
  return { schemaVersion: 1, suite: recording.suite, provenance: { ...provenance, ...unsupported }, samples: recording.samples };
}
