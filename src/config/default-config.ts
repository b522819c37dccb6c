import type { BackendConfig, ConformConfig, VariantConfig } from '../core/types.ts';

/**
 * An example price, marked as one wherever a cost figure is shown: the built-in backends run on the
 * machine conform runs on, priced here as a small cloud VM. Set your own.
 */
export const EXAMPLE_COST = { perHour: 0.1, currency: 'USD', note: 'example price: a 2-vCPU cloud VM at 0.10 USD an hour, not a quote' };

function builtInBackend(name: string, gpu: string, backendClass: string, extraArgs: string[] = []): BackendConfig {
  return {
    name,
    class: backendClass,
    model: 'conform-tiny',
    launch: { command: 'conform', args: ['serve', '--gpu', gpu, ...extraArgs, '--model', '{model}', '--port', '{port}', '--threads', '1'] },
    cost: { ...EXAMPLE_COST },
  };
}

/**
 * cpu's plan variants, run by `conform run --variants` (the nightly loop, docs/nightly-variants.md):
 * kernel plans through conform serve's flags, and the fixture's F16 and Q8_0 weights. A q8_0 KV
 * cache is not among them: llama.cpp refuses it for the fixture's 16-wide heads (block size 32).
 */
export const CPU_VARIANTS: VariantConfig[] = [
  { name: 'fa-off', description: 'flash attention off', set: { '--flash-attention': 'off' } },
  { name: 'kv-f32', description: 'F32 KV cache instead of F16', set: { '--kv-cache-type': 'f32' } },
  { name: 'batch-128', description: 'prompt batch 128 instead of 512', set: { '--batch-size': '128' } },
  { name: 'threads-2', description: 'two ggml threads instead of one', set: { '--threads': '2' } },
  { name: 'f16', description: 'F16 weights', set: { '--weights': 'f16' } },
  { name: 'q8_0', description: 'Q8_0 weights, judged with the cpu-q8 class', set: { '--weights': 'q8_0' }, class: 'cpu-q8' },
];

/**
 * The built-in matrix: the same llama.cpp engine on ggml's CPU kernels, on them again with the fixture's
 * Q8_0 weights (a quantized backend judged against the F32 golden with its own class, cpu-q8), and on its
 * Vulkan shaders (Mesa's llvmpipe where there is no GPU), so a fresh machine runs three real backends.
 */
export const DEFAULT_CONFIG: ConformConfig = {
  backends: [
    { ...builtInBackend('cpu', 'cpu', 'cpu'), variants: CPU_VARIANTS },
    builtInBackend('cpu-q8', 'cpu', 'cpu-q8', ['--weights', 'q8_0']),
    builtInBackend('vulkan', 'vulkan', 'software-gpu'),
  ],
  suites: ['suites/*.yaml'],
  goldenDir: 'golden',
  reportsDir: 'reports',
  reference: 'cpu',
  cacheDir: '.cache/conform',
  modelPath: '{fixture}',
};
