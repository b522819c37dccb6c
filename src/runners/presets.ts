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
        streamingToolCalls: 'error',
        quirks: [
          'b4748: a named tool_choice is ignored (test/fixtures chat-tools-named; llama.cpp #28806)',
          'b4748: tools with stream answer 500 "Cannot use tools with stream"',
          'b4748: client errors come back as 500 server_error; a negative max_tokens is accepted',
          'b4748: a prompt longer than the context is silently truncated with 200',
          'prompt-cache hits changed greedy output (llama.cpp #28527); only the first parallel call parsed (#14101)',
          'responses carry a non-standard `timings` object: server-side ground truth for timing',
        ],
      },
      {
        name: 'ollama',
        metricsPath: null,
        title: 'Ollama (OpenAI-compatible /v1)',
        healthPath: '/',
        logprobsFormat: 'none',
        namedToolChoice: 'unknown',
        streamingToolCalls: 'unknown',
        quirks: ['`response_format` accepted and ignored (ollama #17933)', 'a ROCm build leaked one request’s state into the next (ollama #17847)', 'logprobs are not returned by older releases'],
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
