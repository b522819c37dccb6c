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
      // Run by `conform run --variants` as cpu@<name> (the nightly loop, docs/nightly-variants.md).
      variants: [
        { name: 'fa-off', description: 'flash attention off', set: { '--flash-attention': 'off' } },
        { name: 'kv-f32', description: 'F32 KV cache instead of F16', set: { '--kv-cache-type': 'f32' } },
        { name: 'batch-128', description: 'prompt batch 128 instead of 512', set: { '--batch-size': '128' } },
        { name: 'threads-2', description: 'two ggml threads instead of one', set: { '--threads': '2' } },
        { name: 'f16', description: 'F16 weights', set: { '--weights': 'f16' } },
        { name: 'q8_0', description: 'Q8_0 weights, judged with the cpu-q8 class', set: { '--weights': 'q8_0' }, class: 'cpu-q8' },
      ],
    },
    {
      // The same engine with the fixture's Q8_0 weights, judged against the F32 golden with its own
      // tolerance class (src/core/tolerance.ts: drift and loop share measured on Q8_0).
      name: 'cpu-q8',
      class: 'cpu-q8',
      model: 'conform-tiny',
      launch: { command: 'conform', args: ['serve', '--gpu', 'cpu', '--weights', 'q8_0', '--model', '{model}', '--port', '{port}', '--threads', '1'] },
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
