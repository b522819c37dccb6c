// conform's own config for runs in this clone: the built-in matrix, spelled out. In your own
// project, `npx conform init` writes the same config, importing defineConfig from 'conform/config'.
import { defineConfig } from './src/config/define-config.ts';

export default defineConfig({
  backends: [
    {
      name: 'cpu',
      class: 'cpu',
      model: 'conform-tiny',
      launch: { command: 'conform', args: ['serve', '--gpu', 'cpu', '--model', '{model}', '--port', '{port}', '--threads', '1'] },
    },
    {
      name: 'vulkan',
      class: 'software-gpu',
      model: 'conform-tiny',
      launch: { command: 'conform', args: ['serve', '--gpu', 'vulkan', '--model', '{model}', '--port', '{port}', '--threads', '1'] },
    },
    // A server you run yourself, for example vLLM on a ROCm box:
    // { name: 'rocm', class: 'rocm', model: 'my-model', baseUrl: 'http://gpu-box:8000/v1', apiKeyEnv: 'ROCM_API_KEY' },
  ],
  suites: ['suites/*.yaml'],
  reference: 'cpu',
});
