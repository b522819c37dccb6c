import { stringify } from 'yaml';
import { DEFAULT_CONFIG } from './default-config.ts';

// The files `conform init` writes. The backends are printed from DEFAULT_CONFIG, so a project's
// starter config is the built-in matrix spelled out and cannot drift from it.

function tsLiteral(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(tsLiteral).join(', ')}]`;
  if (value && typeof value === 'object')
    return `{ ${Object.entries(value)
      .map(([key, v]) => `${/^[A-Za-z_$][\w$]*$/.test(key) ? key : `'${key}'`}: ${tsLiteral(v)}`)
      .join(', ')} }`;
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  return String(value);
}

const BACKENDS_NOTE = [
  'The three built-in backends: the same llama.cpp engine (conform serve) on ggml\'s CPU kernels, on them',
  "with the fixture's Q8_0 weights (class cpu-q8), and on its Vulkan shaders (Mesa's llvmpipe where there",
  "is no GPU), all with conform's fixture model.",
];
const OWN_SERVER_TS = "{ name: 'rocm', class: 'rocm', model: 'my-model', baseUrl: 'http://gpu-box:8000/v1', apiKeyEnv: 'ROCM_API_KEY' },";
const OWN_SERVER_YAML = '- { name: rocm, class: rocm, model: my-model, baseUrl: "http://gpu-box:8000/v1", apiKeyEnv: ROCM_API_KEY }';
const SUITES_NOTE = "Your suites, plus any of conform's own by name: 'conform:smoke', or 'conform:*' for all of them.";

/** conform.config.ts for a project: the built-in backends, the project's suites, cpu as the reference. */
export function starterConfigTs(): string {
  return [
    "// conform's config: the backends to compare and the suites to run. See: npx conform --help",
    "import { defineConfig } from 'conform/config';",
    '',
    'export default defineConfig({',
    '  backends: [',
    ...BACKENDS_NOTE.map((line) => `    // ${line}`),
    ...DEFAULT_CONFIG.backends.map((backend) => `    ${tsLiteral(backend)},`),
    '    // A server you run yourself, for example vLLM on a ROCm box (the key is read from $ROCM_API_KEY):',
    `    // ${OWN_SERVER_TS}`,
    '  ],',
    `  // ${SUITES_NOTE}`,
    `  suites: ${tsLiteral(DEFAULT_CONFIG.suites)},`,
    `  reference: ${tsLiteral(DEFAULT_CONFIG.reference)},`,
    '});',
    '',
  ].join('\n');
}

/** conform.config.yaml for a project, the same config as starterConfigTs; `schema` is the config schema's path relative to the file. */
export function starterConfigYaml(schema: string): string {
  return [
    `# yaml-language-server: $schema=${schema}`,
    "# conform's config: the backends to compare and the suites to run. See: npx conform --help",
    'backends:',
    ...BACKENDS_NOTE.map((line) => `  # ${line}`),
    ...DEFAULT_CONFIG.backends.map((backend) => `  - ${stringify(backend, { collectionStyle: 'flow', lineWidth: 0 }).trim()}`),
    '  # A server you run yourself, for example vLLM on a ROCm box (the key is read from $ROCM_API_KEY):',
    `  # ${OWN_SERVER_YAML}`,
    `# ${SUITES_NOTE}`,
    `suites: [${DEFAULT_CONFIG.suites.map((s) => JSON.stringify(s)).join(', ')}]`,
    `reference: ${DEFAULT_CONFIG.reference}`,
    '',
  ].join('\n');
}

/** The name of the starter suite; its golden is golden/<name>.json. */
export const STARTER_SUITE_NAME = 'example';

/**
 * suites/example.yaml: three short greedy requests that pass on every built-in backend with the
 * fixture model. The fixture model is random, so the tool's only string argument is an enum:
 * without a bound it would never close the string. `schema` is the suite schema's path relative to the file.
 */
export function starterSuite(schema: string): string {
  return `# yaml-language-server: $schema=${schema}
suite: ${STARTER_SUITE_NAME}
description: >
  Starter suite written by conform init: a chat answer, the same kind of answer streamed, and a
  forced tool call, each compared with golden recorded on the reference backend (cpu).
defaults:
  endpoint: chat
  params: { max_tokens: 16, temperature: 0, logprobs: true, top_logprobs: 5 }
  checks:
    - { kind: exact }              # identical to golden on the backend that recorded it
    - { kind: greedy-divergence }  # elsewhere: where the tokens first differ, it must be a near-tie
    - { kind: distribution }       # logprob drift within the backend's tolerance class
cases:
  - id: chat-hello
    messages: [{ role: user, content: Say hello. }]
  - id: chat-stream
    description: Streamed over SSE; the same greedy tokens as a plain answer would have.
    messages: [{ role: user, content: Name a colour. }]
    params: { stream: true }
    addChecks: [{ kind: stream-invariants }]
  - id: tool-call
    description: A named tool_choice must be honoured, with arguments valid against the tool's schema.
    messages: [{ role: user, content: What is the weather in Oslo? }]
    params:
      max_tokens: 64
      tools:
        - type: function
          function:
            name: get_weather
            description: Weather forecast for a city.
            parameters:
              type: object
              properties:
                city: { type: string, enum: [Lima, Oslo, Tokyo] }
              required: [city]
      tool_choice: { type: function, function: { name: get_weather } }
    checks: [{ kind: tool-call }, { kind: exact }, { kind: greedy-divergence }]
`;
}
