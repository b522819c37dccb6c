/**
 * What conform knows about a server family before it probes it. A preset fills in defaults and
 * explains expected quirks; `conform backends` probes what the running server really does.
 * Sources: ../shared/ANCHORS.md (issue numbers), the b4748 captures in test/fixtures, and each
 * project's OpenAI-compatibility docs. Quirks change between releases: probe before trusting one.
 */
export interface ServerPreset {
  name: string;
  title: string;
  /** Path, relative to the origin, that answers 200 when the server is up. */
  healthPath: string;
  /** Largest top_logprobs the server accepts on chat completions; conform clamps to it and records a deviation. */
  topLogprobsCap?: number;
  /** How it answers `logprobs`. */
  logprobsFormat: 'openai' | 'openai+ids' | 'none';
  namedToolChoice: 'honoured' | 'ignored' | 'unknown';
  streamingToolCalls: 'supported' | 'error' | 'unknown';
  /** One line per known quirk, each with where it was seen. */
  quirks: string[];
  /** Where the server states its context, for `conform backends` and docs; probeIdentity reads all of them. */
  contextFrom?: string;
  /** Context to assume when the server states none: its documented default, the smallest where versions differ. */
  defaultContextSize?: number;
  /** Path of its Prometheus metrics on the API's origin; null: it serves none. Unset: /metrics is tried. */
  metricsPath?: string | null;
}

export const PRESETS: ReadonlyMap<string, ServerPreset> = new Map(
  (
    [
      {
        name: 'conform',
        metricsPath: '/metrics',
        title: 'conform serve (llama.cpp through node-llama-cpp)',
        healthPath: '/health',
        topLogprobsCap: 20,
        logprobsFormat: 'openai+ids',
        namedToolChoice: 'honoured',
        streamingToolCalls: 'supported',
        quirks: ['/health is 503 until a real token was generated', 'tool calls are grammar-forced JSON; streamed whole once complete'],
        contextFrom: '/v1/models meta.context_size (and meta.n_ctx, with the weights fingerprint llama-server reports)',
      },
      {
        name: 'vllm',
        metricsPath: '/metrics',
        title: 'vLLM (CUDA, ROCm, vllm-ascend, vllm-gaudi)',
        healthPath: '/health',
        topLogprobsCap: 20,
        logprobsFormat: 'openai',
        namedToolChoice: 'unknown',
        streamingToolCalls: 'supported',
        quirks: [
          '/health answers before the first request has warmed up: Gaudi first-run p95 TTFT 2,400 ms vs 600 ms later (vllm-gaudi #1188)',
          'a named tool_choice fell back to auto in some versions (vllm #49712)',
          'prefix caching changed greedy output (vllm #5543)',
          'packs several tokens into one SSE chunk: ITL per chunk is not per token (vllm #27485)',
          'the top_logprobs cap is the server flag --max-logprobs, 20 by default (vllm #5312)',
        ],
        contextFrom: '/v1/models data[].max_model_len',
      },
      {
        name: 'sglang',
        metricsPath: '/metrics',
        title: 'SGLang',
        healthPath: '/health',
        topLogprobsCap: 20,
        logprobsFormat: 'openai',
        namedToolChoice: 'unknown',
        streamingToolCalls: 'unknown',
        quirks: ['`seed` accepted and ignored (sglang #15746)', 'greedy output varied past a batch of 8 (sglang #19431)'],
      },
      {
        name: 'tgi',
        metricsPath: '/metrics',
        title: 'Text Generation Inference',
        healthPath: '/health',
        topLogprobsCap: 5,
        logprobsFormat: 'openai',
        namedToolChoice: 'unknown',
        streamingToolCalls: 'unknown',
        quirks: ['tool-call arguments sent as a JSON object instead of a string (text-generation-inference #2136)', 'top_logprobs cap of 5 taken from its OpenAPI description; not yet verified by conform'],
      },
      {
        name: 'llama-cpp',
        metricsPath: '/metrics',
        title: "llama.cpp's llama-server",
        healthPath: '/health',
        logprobsFormat: 'openai+ids',
        namedToolChoice: 'ignored',
        // b4748 answered streamed tools with 500; b1-80fb11a answers 200, and 400 only with logprobs.
        streamingToolCalls: 'unknown',
        quirks: [
          'b1-80fb11a: a named tool_choice (object) is ignored with 200, logged as "Wrong type supplied for parameter \'tool_choice\'"; the answer is plain text (test/peer)',
          'b1-80fb11a: tool_choice "required" is ignored with 200 when the GGUF\'s chat template has no tool support (/props chat_template_caps tells)',
          'b1-80fb11a: streamed tools with logprobs answer 400 "logprobs is not supported with tools + stream"; without logprobs 200 (a template without tool support gives plain text, so streamed calls are unmeasured)',
          'b1-80fb11a: top_logprobs without logprobs: true answers 400 "top_logprobs requires logprobs to be set to true" (conform no longer sends it)',
          'b1-80fb11a: a prompt longer than the context answers 400 "request (N tokens) exceeds the available context size"',
          'b1-80fb11a: json_schema response_format answered 400 "Failed to initialize samplers" with the fixture model: the grammar root began with the generation prompt',
          'b1-80fb11a: context on /props default_generation_settings.n_ctx (per slot) and /v1/models meta.n_ctx; weights as meta n_vocab, n_params, n_embd, n_ctx_train, size; no sha256, and the model id is the -m path',
          'b1-80fb11a: logprobs entries carry `id` and `bytes` (UTF-8); the prompt cache is on by default (usage.prompt_tokens_details.cached_tokens, timings.cache_n)',
          'b4748: a named tool_choice is ignored (test/fixtures chat-tools-named; llama.cpp #28806)',
          'b4748: tools with stream answer 500 "Cannot use tools with stream"',
          'b4748: client errors come back as 500 server_error; a negative max_tokens is accepted',
          'b4748: a prompt longer than the context is silently truncated with 200',
          'prompt-cache hits changed greedy output (llama.cpp #28527); only the first parallel call parsed (#14101)',
          'responses carry a non-standard `timings` object: server-side ground truth for timing',
        ],
        contextFrom: '/props default_generation_settings.n_ctx, else /v1/models meta.n_ctx',
      },
      {
        name: 'ollama',
        metricsPath: null,
        title: 'Ollama (OpenAI-compatible /v1)',
        healthPath: '/',
        logprobsFormat: 'none',
        namedToolChoice: 'unknown',
        streamingToolCalls: 'unknown',
        quirks: [
          '`response_format` accepted and ignored (ollama #17933)',
          'a ROCm build leaked one request’s state into the next (ollama #17847)',
          'logprobs are not returned by older releases',
          'the context is not stated over /v1 and longer prompts are silently truncated; the default num_ctx was 2048, later 4096 or more by VRAM (docs.ollama.com context-length)',
        ],
        contextFrom: 'not stated over /v1: the preset assumes 2048; set maxPromptTokens to what OLLAMA_CONTEXT_LENGTH gives',
        defaultContextSize: 2048,
      },
      {
        name: 'ovms',
        metricsPath: '/metrics',
        title: 'OpenVINO Model Server',
        healthPath: '/v2/health/ready',
        logprobsFormat: 'openai',
        namedToolChoice: 'unknown',
        streamingToolCalls: 'unknown',
        quirks: ['a GPU plugin answered wrongly where the CPU plugin was right (openvino #37419)', 'prefix caching changed output (openvino.genai #4367)'],
      },
      {
        name: 'mlx-lm',
        metricsPath: null,
        title: 'MLX-LM server (mlx_lm.server)',
        healthPath: '/health',
        topLogprobsCap: 10,
        logprobsFormat: 'openai',
        namedToolChoice: 'unknown',
        streamingToolCalls: 'unknown',
        quirks: ['single-process server: set concurrency 1', 'top_logprobs cap of 10 taken from its docs; not yet verified by conform'],
      },
      {
        name: 'lmstudio',
        metricsPath: null,
        title: 'LM Studio',
        healthPath: '/v1/models',
        logprobsFormat: 'none',
        namedToolChoice: 'unknown',
        streamingToolCalls: 'unknown',
        quirks: ['no health endpoint: /v1/models stands in for it', 'logprobs are not returned'],
      },
    ] satisfies ServerPreset[]
  ).map((preset) => [preset.name, preset]),
);

/** The preset a backend names, if any; one lookup so every caller reads presets the same way. */
export function presetOf(backend: { preset?: string }): ServerPreset | undefined {
  return backend.preset ? PRESETS.get(backend.preset) : undefined;
}

/** The context to assume where the server states none: the preset's default, unless the config sets maxPromptTokens, which knows better. */
export function assumedContextSize(backend: { preset?: string; maxPromptTokens?: number }): number | undefined {
  return backend.maxPromptTokens === undefined ? presetOf(backend)?.defaultContextSize : undefined;
}
