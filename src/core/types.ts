// The vocabulary of conform. Pure data shapes: no I/O, no classes, so that records
// written on one machine can be read, merged and compared on another.

/** A chat message as sent in an OpenAI-compatible request. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string | null;
  name?: string;
  tool_call_id?: string;
  tool_calls?: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }>;
}

/** A tool offered to the model, in the OpenAI shape. */
export interface ToolDefinition {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown> };
}

/** Request parameters a case may set; names follow the OpenAI API so suites read like requests. */
export interface CaseParams {
  max_tokens?: number;
  temperature?: number;
  seed?: number;
  stop?: string[];
  logprobs?: boolean;
  top_logprobs?: number;
  stream?: boolean;
  tools?: ToolDefinition[];
  tool_choice?: 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } };
  parallel_tool_calls?: boolean;
  response_format?: { type: 'json_schema'; json_schema: { name: string; schema: Record<string, unknown>; strict?: boolean } } | { type: 'json_object' } | { type: 'text' };
}

/** One check a case asks for; `kind` selects the comparator. */
export interface CheckSpec {
  kind: string;
  [option: string]: unknown;
}

/** Numeric allowances for comparators; every field is justified where its default is defined. */
export interface Tolerance {
  /** Each side's token must be in the other's top-k at the first greedy divergence. */
  topK: number;
  /** Largest logprob gap (nats) between the two tokens at a divergence for it to count as a near-tie. */
  divergenceLogprobGap: number;
  /** Largest |Δlogprob| (nats) of the chosen token over the shared greedy prefix. */
  prefixLogprobDelta: number;
  /** The degeneration check's limits where this class's healthy output needs others (assertions/degeneration.ts). @default the check's defaults */
  degeneration?: Partial<DegenerationThresholds>;
  /** The distribution check's limits where this class's healthy drift needs others (assertions/distribution.ts). @default the check's defaults */
  distribution?: Partial<DistributionThresholds>;
}

/** The limits of the distribution check against golden; a tolerance class, a backend, a case or the check itself may set them. */
export interface DistributionThresholds {
  /** Largest mean KL(golden‖backend) in nats. */
  maxMeanKld: number;
  /** Largest RMS of Δp (probability, not percent) of golden's chosen token. */
  maxRmsDeltaP: number;
  /** Largest single-position KLD in nats; not checked unless given. */
  maxKld: number;
  /** Smallest share of positions whose top token agrees; informational unless given. */
  minSameTopRate: number;
}

/** The limits of the reference-free degeneration check; a tolerance class, a backend, a case or the check itself may set them. */
export interface DegenerationThresholds {
  /** Shortest run of `?`/U+FFFD flagged. */
  garbageRun: number;
  /** Fewest back-to-back copies of one token flagged. */
  tokenRepeat: number;
  /** Fewest back-to-back copies of a 2-to-32-token unit that count as a loop. */
  loopRepeats: number;
  /** Smallest share of the output's tokens a loop must cover to be flagged; above 1 turns the rule off. */
  loopCoverage: number;
}

/** Send the same request several times, one after another or all at once, and count distinct outputs. */
export interface RepeatSpec {
  count: number;
  mode: 'serial' | 'concurrent';
}

/** What a backend must offer for a case to run; a backend that cannot is reported as a skip, with the reason. */
export interface CaseRequirements {
  /** Prompt plus answer must fit: compared with the backend's context and its class's prompt cap. */
  contextTokens?: number;
}

/** A tool-use loop that conform drives itself: the model calls tools, conform executes them through a fault proxy. */
export interface AgentSpec {
  /** Model turns at most, tool turns included. */
  maxTurns: number;
  /** Seeds the fault schedule, so a run reproduces exactly. */
  seed: number;
  /** The whole loop must finish within this many milliseconds. */
  budgetMs: number;
  /** Faults applied between conform and its tool server, Toxiproxy-style. */
  faults: FaultSpec[];
  /** Tool-call retries allowed per call. @default 4 */
  maxToolRetries?: number;
}

/** One fault, named after Toxiproxy's toxics plus HTTP-level ones; `toxicity` is the chance it applies to a request. */
export interface FaultSpec {
  type: 'latency' | 'bandwidth' | 'slow_close' | 'timeout' | 'reset_peer' | 'slicer' | 'limit_data' | 'http_429' | 'http_503';
  toxicity?: number;
  [parameter: string]: unknown;
}

/** Starting a launched backend as part of a case: cold (empty caches) or warm. */
export interface LifecycleSpec {
  start: 'cold' | 'warm';
  /** Requests after the first answer that set the steady-state TTFT. @default 5 */
  steadyRequests?: number;
}

/** A single scenario: what to send and what to check. */
export interface Case {
  id: string;
  description?: string;
  /** chat and completion send one request; agent drives a tool loop; lifecycle restarts the backend. */
  endpoint: 'chat' | 'completion' | 'agent' | 'lifecycle';
  messages?: ChatMessage[];
  prompt?: string;
  params: CaseParams;
  checks: CheckSpec[];
  tolerance?: Partial<Tolerance>;
  repeat?: RepeatSpec;
  requires?: CaseRequirements;
  agent?: AgentSpec;
  lifecycle?: LifecycleSpec;
}

/** A validated suite file. */
export interface Suite {
  name: string;
  description: string;
  file: string;
  cases: Case[];
  /** Named as one of conform's own (`conform:<name>`): its golden falls back to the one shipped with conform. */
  bundled?: boolean;
}

/** How a backend is reached and, optionally, started. */
export interface BackendConfig {
  name: string;
  /** OpenAI-compatible base URL, including `/v1`. Omit when `launch` is set. */
  baseUrl?: string;
  launch?: LaunchConfig;
  /** Model name sent in requests. */
  model: string;
  /** Tolerance class: selects default tolerances (see core/tolerance.ts). */
  class: string;
  /** Name of the environment variable that holds the API key; the key itself never enters config. */
  apiKeyEnv?: string;
  /** Requests in flight at once. @default 1 */
  concurrency?: number;
  /** Limit for a whole request, body included; when unset, 120 s plus the prompt's prefill allowance (src/core/timeouts.ts). @default 120000 + prefill allowance */
  requestTimeoutMs?: number;
  /** Limit for the TCP connection to open. @default 10000 */
  connectTimeoutMs?: number;
  /** Limit from sending to the response headers. @default the first-token limit when streamed, the whole-request limit when not */
  firstByteTimeoutMs?: number;
  /** Limit from sending to the first streamed token: the prefill. When unset it grows with the prompt and the class (src/core/timeouts.ts). @default 60000 + prefill allowance */
  firstTokenTimeoutMs?: number;
  /** Longest silence between two reads of a body once it has begun (after the first streamed token). @default 30000 */
  idleTimeoutMs?: number;
  /** Largest response body read, error bodies included; a longer one is cut there and its sample is a `body-too-large` protocol error. @default 8388608 (8 MiB) */
  maxResponseBytes?: number;
  /** Retries for 429, 502, 503, 504 and connection failures, with exponential backoff and jitter. @default 3 */
  maxRetries?: number;
  /** A documented server preset (docs/presets.md): fills in its known quirks. */
  preset?: string;
  /** Longest prompt (tokens) to send this backend; longer cases are skipped with the reason. Default by class (software-gpu: 4096). */
  maxPromptTokens?: number;
  tolerance?: Partial<Tolerance>;
  /** What the backend costs, for cost per 1K tokens (docs/telemetry.md). */
  cost?: import('./telemetry-types.ts').CostConfig;
  /** Where its power is read from, for joules per token. @default { source: 'auto' } */
  power?: import('./telemetry-types.ts').PowerConfig;
  /** Where its Prometheus metrics live; false: do not scrape. @default the preset's location, else /metrics on the base URL's origin */
  metrics?: import('./telemetry-types.ts').MetricsConfig | false;
  /** Free-form labels (region, tier) that routing policies can require. */
  labels?: Record<string, string>;
  /** Named alternatives of the launch, run by `conform run --variants` as `<backend>@<variant>` (core/variants.ts). */
  variants?: VariantConfig[];
}

/** One alternative kernel plan or precision of a launched backend, judged by the same golden suites. */
export interface VariantConfig {
  name: string;
  description?: string;
  /** Flag → value: replaces the value after the flag where the launch args have it, else appends both. */
  set?: Record<string, string>;
  /** Arguments appended as they are. */
  append?: string[];
  env?: Record<string, string>;
  /** Tolerance class when the variant changes precision. @default the backend's class */
  class?: string;
  tolerance?: Partial<Tolerance>;
}

/** A command conform starts, waits for and stops. `{port}` and `{model}` in args are substituted. */
export interface LaunchConfig {
  command: string;
  args: string[];
  env?: Record<string, string>;
  /** How long to wait for the first real answer. @default 300000 */
  readyTimeoutMs?: number;
}

export interface ConformConfig {
  backends: BackendConfig[];
  /** Glob(s) of suite files, relative to the config file. @default ['suites/*.yaml'] */
  suites: string[];
  goldenDir: string;
  reportsDir: string;
  /** The backend whose samples become golden. @default 'cpu' */
  reference: string;
  /** Where the fixture model is cached; `{fixture}` as a model path means that model. */
  cacheDir: string;
  /** Extra arguments that launched backends receive for `{model}`. */
  modelPath?: string;
  /** The release under test, for badges and the last-passing table. */
  release?: string;
}

/** What a backend reports about itself at run time. */
export interface BackendIdentity {
  engine?: string;
  engineVersion?: string;
  device?: string;
  driver?: string;
  gpu?: string;
  model?: string;
  modelSha256?: string;
  /** The sha256 of the weights the served model was quantized from, where the server derived it (conform serve --weights). */
  derivedFromSha256?: string;
  /** Tokens the server holds per request, where it says. */
  contextSize?: number;
  /** What the server says about the weights it serves: tells two models apart where no sha256 is given. */
  modelFingerprint?: { vocabSize?: number; parameters?: number; embeddingWidth?: number; trainedContext?: number; bytes?: number };
}

export interface TopLogprob {
  token: string;
  logprob: number;
  id?: number;
}

/** One generated token with what the server said about its alternatives. */
export interface TokenStep {
  token: string;
  logprob?: number;
  id?: number;
  /** The token's UTF-8 bytes where the server gives them (llama.cpp's `bytes`): a token may hold part of a character. */
  bytes?: number[];
  top: TopLogprob[];
}

export interface ToolCall {
  index: number;
  id: string;
  name: string;
  /** As sent: OpenAI requires a JSON string; a server that sends an object is recorded as a deviation. */
  arguments: string;
}

export type SampleKind = 'ok' | 'http-error' | 'timeout' | 'crash' | 'protocol-error';

/** Monotonic milliseconds relative to the moment the request was sent. */
export interface SampleTimings {
  firstByteMs?: number;
  /** First chunk carrying content, reasoning or a tool-call delta (not a role-only chunk). */
  firstTokenMs?: number;
  chunkMs: number[];
  /** Tokens each content-carrying chunk held, parallel to chunkMs, where the chunk's logprobs tell; per-token ITL uses them. */
  chunkTokens?: number[];
  endMs: number;
}

/** The normalized outcome of running one case once on one backend; success and failure share one shape. */
export interface Sample {
  kind: SampleKind;
  text: string;
  reasoning?: string;
  tokens: TokenStep[];
  toolCalls: ToolCall[];
  finishReason: string | null;
  usage?: { promptTokens: number; completionTokens: number };
  timings: SampleTimings;
  startedAt: string;
  streamed: boolean;
  /** The server's own timing figures where it reports them (llama.cpp's `timings`). */
  serverTimings?: Record<string, number>;
  /** Ways the server departed from the OpenAI protocol while still answering. */
  deviations: string[];
  retries: number;
  error?: { message: string; status?: number; code?: string };
  /** For repeated cases: each distinct output and how many times it came back. */
  variants?: Array<{ text: string; tokenIds?: number[]; toolCalls?: string; count: number }>;
  /** For repeated seeded sampling cases: the same request with other seeds, to tell an honoured seed from an ignored one. */
  otherSeeds?: Array<{ seed: number; text: string; tokenIds?: number[]; toolCalls?: string }>;
  /** For agent cases: the loop as it happened. */
  agent?: AgentRecord;
  /** For lifecycle cases: how the backend came up. */
  lifecycle?: LifecycleRecord;
  /** How long the backend processes conform started waited for a CPU while this sample was timed; timed checks take that wait out (core/machine-load.ts). */
  machine?: MachineLoad;
}

/**
 * CPU contention over a timed interval, read from the kernel's scheduler statistics of the backend processes
 * conform launched (src/run/load-meter.ts). Absent where none was measured: a backend conform did not start,
 * a system without /proc.
 */
export interface MachineLoad {
  /** wallMs / (wallMs − cpuWaitMs): 1 when nothing waited, 2 when the timed work got half the CPU it asked for. */
  slowdown: number;
  /** Time lost to contention: per sampling tick, the longest any one measured thread was runnable but waiting for a CPU. */
  cpuWaitMs: number;
  /** The interval measured. */
  wallMs: number;
  /** The same for named parts of the interval; a lifecycle start has spawnToHealthyMs, healthyToFirstAnswerMs and steadyMs. */
  phases?: Record<string, { wallMs: number; cpuWaitMs: number }>;
}

/** What a tool loop did: every turn, every tool execution and its retries, and the faults injected. */
export interface AgentRecord {
  turns: number;
  completed: boolean;
  elapsedMs: number;
  toolCalls: Array<{ turn: number; name: string; arguments: string; idempotencyKey: string; attempts: number; outcome: string; elapsedMs: number }>;
  /** Side effects the tool server applied, by idempotency key; a key applied twice is a duplicated side effect. */
  sideEffects: Array<{ idempotencyKey: string; applied: number }>;
  faults: Array<{ request: number; fault: string; detail?: string }>;
  finalText: string;
}

export interface LifecycleRecord {
  start: 'cold' | 'warm';
  spawnToHealthyMs: number;
  healthyToFirstAnswerMs: number;
  firstAnswerTtftMs: number;
  steadyTtftMs: number[];
  /** First-request TTFT over the median steady-state TTFT. */
  firstOverSteady: number;
}

export type Status = 'pass' | 'fail' | 'error' | 'skip';

/** A comparator's judgement, always with what was measured against what threshold. */
export interface Verdict {
  check: string;
  status: Status;
  measured?: number | string | null;
  threshold?: number | string | null;
  message: string;
  details?: Record<string, unknown>;
}

/** One case on one backend: the sample and every verdict on it. */
export interface CaseResult {
  id: string;
  backend: string;
  suite: string;
  caseId: string;
  status: Status;
  /** In memory, and in the journal; summary.json leaves it out and gives sampleLine instead. */
  sample?: Sample;
  /** Line of the run's samples.jsonl (counted from 1) that holds this result with its sample. */
  sampleLine?: number;
  /**
   * In memory only, during `conform run`: this passing sample's answer (text, reasoning, tokens, tool calls,
   * variants, other seeds, agent record) was let go once it was judged and journaled, so that a run holds
   * figures rather than answers; its journal line (sampleLine) has them all. Never written to a file.
   */
  sampleTrimmed?: true;
  verdicts: Verdict[];
}

export interface Counts {
  pass: number;
  fail: number;
  error: number;
  skip: number;
}

/** How a backend fared as a whole: whether it ran, what it is, and how long it took to come up. */
export interface BackendRun {
  name: string;
  class: string;
  state: 'ran' | 'skipped' | 'unavailable' | 'crashed';
  reason?: string;
  identity: BackendIdentity;
  coldStart?: { spawnToHealthyMs?: number; healthyToFirstAnswerMs?: number; firstAnswerTtftMs?: number };
  logFile?: string;
  /** TTFT, ITL, TPOT and end-to-end percentiles over this backend's samples (core/latency.ts). */
  latency?: import('./latency.ts').BackendLatency;
  /** Goodput as vLLM and MLPerf count it: of the requests judged against latency SLOs, those that met all of them. */
  goodput?: { judged: number; met: number };
  /** The tolerances this backend was judged with (class defaults plus its overrides; cases may narrow them further). */
  tolerance?: Tolerance;
  /** The backend's labels from the config, for routing. */
  labels?: Record<string, string>;
  /** Throughput, cost, energy and the engine's own metrics while it ran (docs/run-record.md). */
  telemetry?: import('./telemetry-types.ts').BackendTelemetry;
}

export interface GoldenProvenance {
  backend: string;
  identity: BackendIdentity;
  modelSha256?: string;
  conformVersion: string;
  recordedAt: string;
  /** Cases the reference could not serve, by case id, with the one-line reason; golden-relative checks skip them and say why. */
  unsupported?: Record<string, string>;
}

/** The approved samples of one suite, recorded on the reference backend. */
export interface GoldenFile {
  schemaVersion: 1;
  suite: string;
  provenance: GoldenProvenance;
  samples: Record<string, Sample>;
}

export const SUMMARY_SCHEMA_VERSION = 1;

export interface RunSummary {
  schemaVersion: typeof SUMMARY_SCHEMA_VERSION;
  runId: string;
  conformVersion: string;
  startedAt: string;
  finishedAt: string;
  backends: BackendRun[];
  suites: string[];
  matrix: Record<string, Record<string, Counts>>;
  totals: Counts;
  results: CaseResult[];
  /** Set when the run did not finish: interrupted, or killed and read back from its journal. */
  partial?: { planned: number; recorded: number; reason: string };
  /** Each `conform run --resume` that continued this run: when, and how many results it found recorded. */
  resumed?: Array<{ at: string; recorded: number; droppedPartialLine?: boolean }>;
}
