// Runs in a fresh process: ggml reads GGML_VK_VISIBLE_DEVICES once, when its Vulkan backend registers.
// Plain JavaScript so it starts without the TypeScript loader.
import { getLlama, LlamaLogLevel } from 'node-llama-cpp';

const llama = await getLlama({ gpu: 'vulkan', build: 'never', logLevel: LlamaLogLevel.disabled });
process.stdout.write(`${JSON.stringify({ gpu: llama.gpu, devices: await llama.getGpuDeviceNames() })}\n`);
await llama.dispose();
