// One release's manifest from one run record (or a merged one): per backend, identity, precision,
// kernel plan, features, op coverage, verdicts, drift against the reference, latency and caveats.
// Pure: everything read from disk or from other tools comes in through the input.

import type { GateCaveat } from '../core/gate.ts';
import { parseVariantName } from '../core/variants.ts';
import type { BackendConfig, BackendRun, GoldenFile, RunSummary, Suite } from '../core/types.ts';
import { measureDrift } from './drift.ts';
import { featuresFromProbe, featuresFromRun, type ProbedBackend } from './features.ts';
import { kernelPlanOf, kvCacheOf } from './kernel-plan.ts';
import { MANIFEST_SCHEMA_VERSION, type Absent, type BackendManifest, type Caveats, type LatencyFigures, type OpCoverage, type ReleaseManifest, type WeightPrecision } from './types.ts';

export interface BuildManifestInput {
  summary: RunSummary;
  release: string;
  /** The configured backends, variants expanded, so that launch args give the kernel plan. */
  backends: BackendConfig[];
  reference: string;
  suites: Suite[];
  goldens: ReadonlyMap<string, GoldenFile | undefined>;
  /** Weight precision per backend name, read from the GGUF whose sha256 it reported. */
  weights: Readonly<Record<string, WeightPrecision | Absent>>;
  /** Op coverage per backend name; absent with the reason where it was not asked for or cannot run. */
  opCoverage: Readonly<Record<string, OpCoverage | Absent>>;
  /** `conform backends --json` rows, when given. */
  probes?: ProbedBackend[];
  caveats?: GateCaveat[];
  /** The manifest this one replaces: recommended plans carry over until `manifest update` changes them. */
  previous?: ReleaseManifest;
}

function latencyOf(run: BackendRun, summary: RunSummary): LatencyFigures {
  const warm = summary.results.find((r) => r.backend === run.name && r.sample?.lifecycle?.start === 'warm')?.sample?.lifecycle;
  const c = run.coldStart;
  return {
    ttftMs: { p50: run.latency?.ttftMs.p50 ?? null, p99: run.latency?.ttftMs.p99 ?? null },
    itlMs: { p50: run.latency?.itlMs.p50 ?? null, p99: run.latency?.itlMs.p99 ?? null },
    coldStart: c
      ? { spawnToHealthyMs: c.spawnToHealthyMs ?? null, healthyToFirstAnswerMs: c.healthyToFirstAnswerMs ?? null, firstAnswerTtftMs: c.firstAnswerTtftMs ?? null }
      : { absent: run.state === 'ran' ? 'not launched by conform (baseUrl): no start to time' : `the backend did not come up (${run.state})` },
    warmStart: warm
      ? { spawnToHealthyMs: warm.spawnToHealthyMs, healthyToFirstAnswerMs: warm.healthyToFirstAnswerMs, firstAnswerTtftMs: warm.firstAnswerTtftMs }
      : { absent: 'no warm-start case ran (the cold-warm suite, on a backend conform launches)' },
  };
}

function caveatsOf(name: string, input: BuildManifestInput): Caveats {
  const expectedFailures = (input.caveats ?? [])
    .filter((c) => c.backend === name)
    .map((c) => ({ ...(c.suite !== undefined && { suite: c.suite }), ...(c.case !== undefined && { case: c.case }), reason: c.reason, expires: c.expires }));
  const unsupported: Caveats['unsupported'] = [];
  for (const [suite, golden] of [...input.goldens.entries()].sort(([a], [b]) => (a < b ? -1 : 1)))
    if (golden?.provenance.backend === name)
      for (const [caseId, reason] of Object.entries(golden.provenance.unsupported ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) unsupported.push({ suite, case: caseId, reason });
  return { expectedFailures, unsupported };
}

function backendEntry(run: BackendRun, input: BuildManifestInput): BackendManifest {
  const config = input.backends.find((b) => b.name === run.name);
  const variant = parseVariantName(run.name);
  const suites = input.summary.matrix[run.name] ?? {};
  const totals = Object.values(suites).reduce((t, c) => ({ pass: t.pass + c.pass, fail: t.fail + c.fail, error: t.error + c.error, skip: t.skip + c.skip }), { pass: 0, fail: 0, error: 0, skip: 0 });
  const fromRun = featuresFromRun(run.name, input.summary.results, input.suites, run.identity);
  const probe = input.probes?.find((p) => p.name === run.name);
  const drift = measureDrift(run.name, input.summary.results, input.goldens);
  const previous = input.previous?.backends.find((b) => b.name === run.name)?.recommendedPlan;
  const notConfigured = `${run.name} is not in the config, so its launch is unknown`;
  const entry: BackendManifest = {
    name: run.name,
    ...(variant && { variantOf: variant }),
    class: run.class,
    state: run.state,
    ...(run.reason !== undefined && { reason: run.reason }),
    identity: run.identity,
    precision: {
      weights: input.weights[run.name] ?? { absent: run.identity.modelSha256 ? `no local GGUF has sha256 ${run.identity.modelSha256}` : 'the backend reported no model sha256' },
      kvCache: config ? kvCacheOf(config) : { absent: notConfigured },
      compute: { absent: 'llama.cpp does not report its compute type over HTTP' },
    },
    kernelPlan: config
      ? kernelPlanOf(config)
      : { flashAttention: null, batchSize: null, microBatchSize: null, threads: null, parallel: null, contextSize: null, gpuLayers: null, launchArgs: [], source: notConfigured },
    features: probe ? featuresFromProbe(probe, fromRun) : fromRun,
    opCoverage: input.opCoverage[run.name] ?? { absent: 'op coverage was not asked for (conform manifest --op-coverage)' },
    verdicts: { suites, totals, tolerance: run.tolerance ?? null },
    // The reference keeps its figures too: against its own golden they show that it reproduces it.
    drift: drift.comparedCases > 0 ? drift : { absent: run.state === 'ran' ? 'no answer of this backend had tokens to compare with golden' : `the backend did not run (${run.state})` },
    latency: latencyOf(run, input.summary),
    caveats: caveatsOf(run.name, input),
  };
  if (previous) entry.recommendedPlan = previous;
  return entry;
}

/** The release manifest of one run: deterministic, so the same run record always gives the same bytes. */
export function buildManifest(input: BuildManifestInput): ReleaseManifest {
  const reference = input.summary.backends.find((b) => b.name === input.reference);
  return {
    schemaVersion: MANIFEST_SCHEMA_VERSION,
    release: input.release,
    runId: input.summary.runId,
    conformVersion: input.summary.conformVersion,
    measuredAt: input.summary.finishedAt,
    reference: input.reference,
    model: { name: reference?.identity.model ?? null, sha256: reference?.identity.modelSha256 ?? null },
    suites: [...input.summary.suites],
    backends: input.summary.backends.map((run) => backendEntry(run, input)),
  };
}
