import type { BackendConfig, ConformConfig } from '../core/types.ts';

/**
 * An example price, marked as one wherever a cost figure is shown: both built-in backends run on the
 * machine conform runs on, priced here as a small cloud VM. Set your own.
 */
export const EXAMPLE_COST = { perHour: 0.1, currency: 'USD', note: 'example price: a 2-vCPU cloud VM at 0.10 USD an hour, not a quote' };

function builtInBackend(name: string, gpu: string, backendClass: string): BackendConfig {
  return {
    name,
    class: backendClass,
    model: 'conform-tiny',
    launch: { command: 'conform', args: ['serve', '--gpu', gpu, '--model', '{model}', '--port', '{port}', '--threads', '1'] },
    cost: { ...EXAMPLE_COST },
  };
}

/**
 * The built-in matrix: the same llama.cpp engine on ggml's CPU kernels and on its Vulkan
 * shaders (Mesa's llvmpipe where there is no GPU), so a fresh machine runs two real backends.
 */
export const DEFAULT_CONFIG: ConformConfig = {
  backends: [builtInBackend('cpu', 'cpu', 'cpu'), builtInBackend('vulkan', 'vulkan', 'software-gpu')],
  suites: ['suites/*.yaml'],
  goldenDir: 'golden',
  reportsDir: 'reports',
  reference: 'cpu',
  cacheDir: '.cache/conform',
  modelPath: '{fixture}',
};
