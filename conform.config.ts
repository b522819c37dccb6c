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
      // An example price, not a quote: reports show the note next to every cost figure. Set your own.
      cost: { perHour: 0.1, currency: 'USD', note: 'example price: a 2-vCPU cloud VM at 0.10 USD an hour, not a quote' },
    },
    {
      name: 'vulkan',
      class: 'software-gpu',
      model: 'conform-tiny',
      launch: { command: 'conform', args: ['serve', '--gpu', 'vulkan', '--model', '{model}', '--port', '{port}', '--threads', '1'] },
      // An example price, not a quote: reports show the note next to every cost figure. Set your own.
      cost: { perHour: 0.1, currency: 'USD', note: 'example price: a 2-vCPU cloud VM at 0.10 USD an hour, not a quote' },
    },
    // A server you run yourself, for example vLLM on a ROCm box:
    // { name: 'rocm', class: 'rocm', model: 'my-model', baseUrl: 'http://gpu-box:8000/v1', apiKeyEnv: 'ROCM_API_KEY' },
  ],
  suites: ['suites/*.yaml'],
  reference: 'cpu',
});
