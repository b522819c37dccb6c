// The signed backend manifest: what a model release runs on each backend, at which precision, with
// which kernel plan, how far it drifts from the reference, and with which caveats. Derived from a run
// record, never hand-written; schemas/manifest.schema.json publishes the same shape.

import type { BackendIdentity, Counts, Tolerance } from '../core/types.ts';

export const MANIFEST_SCHEMA_VERSION = 1;

/** A figure conform could not establish, with the reason; never a guessed value. */
export interface Absent {
  absent: string;
}

/** Quantiles of one measured figure; null figures when there was nothing to measure. */
export interface Spread {
  count: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
}

/** Storage types of the weights, per tensor class (`attn_q`, `ffn_down`, `token_embd`, `norm`, …). */
export interface WeightPrecision {
  /** general.file_type in llama.cpp's words: `F32`, `MOSTLY_F16`, `MOSTLY_Q8_0`, … */
  fileType: string;
  /** Tensor class → ggml types seen in it, most common first. */
  tensors: Record<string, string[]>;
  /** Where it was read: the GGUF file whose sha256 matched the run's model. */
  source: string;
}

export interface Precision {
  weights: WeightPrecision | Absent;
  /** KV cache types of keys and values, from the launch or the engine's documented default. */
  kvCache: { key: string; value: string; source: string } | Absent;
  compute: { type: string; source: string } | Absent;
}

/** What the launch set: flash attention, batch sizes, threads and the rest, as the engine reads them. */
export interface KernelPlan {
  flashAttention: boolean | null;
  batchSize: number | null;
  microBatchSize: number | null;
  threads: number | null;
  parallel: number | null;
  contextSize: number | null;
  gpuLayers: string | null;
  /** Every argument of the launch, with {port} and {model} left as placeholders. */
  launchArgs: string[];
  /** `launch args` with the engine's defaults for what they do not set, or why there is no plan. */
  source: string;
}

/** One feature as conform saw it: `yes`, `no: why`, or `unknown: why`. */
export type FeatureState = string;

export interface Features {
  logprobs: FeatureState;
  /** Most top logprobs an answer carried. */
  topLogprobsCap: number | null;
  tools: FeatureState;
  namedToolChoice: FeatureState;
  streamedTools: FeatureState;
  jsonSchema: FeatureState;
  contextSize: number | null;
  /** `conform backends --json` (probed) or the run record's evidence. */
  source: string;
}

/** test-backend-ops' view of one ggml backend in one mode (`support` or `test`). */
export interface OpCoverageMode {
  mode: 'support' | 'test';
  /** ggml's name for the device: `CPU`, `Vulkan0`. */
  ggmlBackend: string;
  cases: number;
  /** Support mode: cases the backend supports. Test mode: cases that ran and matched the CPU under the NMSE limit. */
  ok: number;
  /** Test mode only: cases that ran and did not match. */
  failed: number;
  /** Cases the backend does not support (test mode skips them). */
  unsupported: number;
  ops: number;
  /** Ops with every case ok. */
  opsFullyCovered: number;
  /** Ops with at least one case not ok, with their counts. */
  partial: Record<string, { ok: number; notOk: number }>;
  /** Ops whose run did not finish (a crash or the time limit), with what happened; their counts cover the cases before it. */
  incomplete: Record<string, string>;
  /** The test-backend-ops command line (ops and parameter filters included). */
  command: string;
  /** llama.cpp commit the binary was built from. */
  buildCommit: string;
}

export interface OpCoverage {
  support: OpCoverageMode | Absent;
  test: OpCoverageMode | Absent;
}

/** Drift of a backend's answers against the reference's golden samples, over the cases both have. */
export interface Drift {
  reference: string;
  comparedCases: number;
  identicalCases: number;
  /** Cases whose greedy tokens part, with the first index where they do. */
  divergences: Array<{ suite: string; caseId: string; index: number; gap: number | null }>;
  divergenceIndex: Spread;
  /** Logprob gap at each divergence (nats; null when one side's token is outside the other's list). */
  divergenceGap: Spread;
  /** KL(golden‖backend) per position over the shared prefix plus the divergence, from the top-k logprobs. */
  kld: Spread & { mean: number | null };
  /** |Δlogprob| of the chosen token over the shared greedy prefix. */
  absLogprobDelta: Spread;
}

export interface LatencyFigures {
  ttftMs: { p50: number | null; p99: number | null };
  itlMs: { p50: number | null; p99: number | null };
  coldStart: { spawnToHealthyMs: number | null; healthyToFirstAnswerMs: number | null; firstAnswerTtftMs: number | null } | Absent;
  /** The cold-warm suite's warm start, where it ran. */
  warmStart: { spawnToHealthyMs: number; healthyToFirstAnswerMs: number; firstAnswerTtftMs: number } | Absent;
}

export interface Caveats {
  /** Failures accepted until a date (the gate policy's caveats for this backend). */
  expectedFailures: Array<{ suite?: string; case?: string; reason: string; expires: string }>;
  /** Cases the reference could not serve, as `record` noted them (golden provenance.unsupported). */
  unsupported: Array<{ suite: string; case: string; reason: string }>;
}

/** The plan `manifest update` promoted, and why. */
export interface RecommendedPlan {
  variant: string;
  launchArgs: string[];
  since: string;
  metric: PromotionMetric;
  reason: string;
}

export type PromotionMetric = 'ttft-p50' | 'tokens-per-second';

export interface BackendManifest {
  name: string;
  /** For `<backend>@<variant>`: the base backend and the variant. */
  variantOf?: { backend: string; variant: string };
  class: string;
  state: 'ran' | 'skipped' | 'unavailable' | 'crashed';
  reason?: string;
  identity: BackendIdentity;
  precision: Precision;
  kernelPlan: KernelPlan;
  features: Features;
  opCoverage: OpCoverage | Absent;
  verdicts: { suites: Record<string, Counts>; totals: Counts; tolerance: Tolerance | null };
  drift: Drift | Absent;
  latency: LatencyFigures;
  caveats: Caveats;
  recommendedPlan?: RecommendedPlan;
}

export interface ReleaseManifest {
  schemaVersion: typeof MANIFEST_SCHEMA_VERSION;
  release: string;
  runId: string;
  conformVersion: string;
  /** When the run finished: the manifest carries no clock of its own, so the same record gives the same bytes. */
  measuredAt: string;
  reference: string;
  model: { name: string | null; sha256: string | null };
  suites: string[];
  backends: BackendManifest[];
}

/** in-toto Statement v1 (https://in-toto.io/Statement/v1) naming the manifest file by its sha256. */
export interface InTotoStatement {
  _type: 'https://in-toto.io/Statement/v1';
  subject: Array<{ name: string; digest: { sha256: string } }>;
  predicateType: string;
  predicate: Record<string, unknown>;
}

/** A DSSE envelope (https://github.com/secure-systems-lab/dsse): base64 payload, signatures over its PAE. */
export interface DsseEnvelope {
  payloadType: string;
  payload: string;
  signatures: Array<{ keyid: string; sig: string }>;
}

/** The one seam interface: where a backend's op coverage comes from (an engine family's own tool). */
export interface OpCoverageSource {
  /** Engine families it can speak for, as BackendIdentity.engine starts. */
  readonly family: string;
  /** Coverage of one device in both modes, or why it cannot be had here. */
  coverage(device: OpCoverageDevice): Promise<OpCoverage | Absent>;
}

/** Which ggml device to ask about. */
export type OpCoverageDevice = 'cpu' | 'vulkan';
