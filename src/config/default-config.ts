import type { BackendConfig, ConformConfig } from '../core/types.ts';

function builtInBackend(name: string, gpu: string, backendClass: string): BackendConfig {
  return {
    name,
    class: backendClass,
    model: 'conform-tiny',
    launch: { command: 'conform', args: ['serve', '--gpu', gpu, '--model', '{model}', '--port', '{port}', '--threads', '1'] },
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
