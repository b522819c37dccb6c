import { once } from 'node:events';
import { ConformError } from '../../core/errors.ts';
import { ensureFixtureModel } from '../../engine/fixture-model/ensure-fixture-model.ts';
import { createLlamaEngine, EngineUnavailableError, type GpuChoice, type LlamaEngine } from '../../engine/llama-engine.ts';
import { createEngineServer } from '../../engine/server.ts';
import { ensureVulkanVisibility } from '../../engine/vulkan-visibility.ts';
import { intFlag, parseCommandArgs } from '../args.ts';
import type { CliContext } from '../context.ts';

export const SERVE_HELP = `conform serve: the built-in OpenAI-compatible engine (llama.cpp through node-llama-cpp)

  --gpu cpu|vulkan|cuda|metal|auto   device to run on (default cpu)
  --model <path.gguf>                model file (default: the fixture model, generated once into the cache)
  --model-name <name>                name reported by /v1/models (default: conform-tiny)
  --host <addr>                      listen address (default 127.0.0.1)
  --port <n>                         listen port (default 8080; 0 picks a free one)
  --threads <n>                      CPU threads for ggml (default 1; the engine's default oversubscribes small machines)
  --context-size <n>                 context length (default: the model's)
  --parallel <n>                     requests evaluated at once (default 1, free of batch variance)
  --flash-attention on|off           fused attention kernels (default on; off crashed llama.cpp's Vulkan backend on llvmpipe past ~1K-token prompts)

Exit code 69 means the requested device does not exist here.`;

const GPUS: GpuChoice[] = ['cpu', 'vulkan', 'cuda', 'metal', 'auto'];
/** sysexits' EX_UNAVAILABLE: launchers read it as "this backend cannot run here", a skip rather than a crash. */
export const EXIT_UNAVAILABLE = 69;

function onOff(name: string, value: string): boolean {
  if (value !== 'on' && value !== 'off') throw new ConformError('USAGE', `--${name} "${value}", expected on or off, for example --${name} on`);
  return value === 'on';
}

/** Runs the engine until SIGINT or SIGTERM. */
export async function serveCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values } = parseCommandArgs('serve', argv, {
    gpu: { type: 'string', default: 'cpu' },
    model: { type: 'string' },
    'model-name': { type: 'string', default: 'conform-tiny' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    threads: { type: 'string' },
    'context-size': { type: 'string' },
    parallel: { type: 'string' },
    'flash-attention': { type: 'string', default: 'on' },
    help: { type: 'boolean' },
  });
  if (values.help) return ctx.out(SERVE_HELP), 0;
  const gpu = values.gpu as GpuChoice;
  if (!GPUS.includes(gpu)) throw new ConformError('USAGE', `--gpu "${values.gpu}", expected one of ${GPUS.join(', ')}, for example --gpu vulkan`);
  const port = intFlag('port', values.port, 8080);
  const modelPath = values.model ?? (await ensureFixtureModel(ctx.cacheDir)).path;
  const log = (line: string) => ctx.err(`conform serve [${gpu}]: ${line}`);
  if (gpu === 'vulkan') {
    try {
      log(await ensureVulkanVisibility(ctx.env));
    } catch (error) {
      log(`unavailable: ${(error as Error).message}`);
      return EXIT_UNAVAILABLE;
    }
  }
  log(`loading ${modelPath}`);
  let engine;
  try {
    engine = await createLlamaEngine({
      gpu,
      modelPath,
      threads: intFlag('threads', values.threads, 1, 1),
      contextSize: values['context-size'] ? intFlag('context-size', values['context-size'], 4096, 16) : undefined,
      sequences: intFlag('parallel', values.parallel, 1, 1),
      flashAttention: onOff('flash-attention', values['flash-attention']!),
    });
  } catch (error) {
    if (error instanceof EngineUnavailableError) {
      log(`unavailable: ${error.message}`);
      return EXIT_UNAVAILABLE;
    }
    throw error;
  }
  log(`device ${engine.identity.device} (${engine.identity.driver}), context ${engine.contextSize}`);
  const { server, markReady } = createEngineServer({ engine, modelName: values['model-name']! });
  server.listen(port, values.host);
  await once(server, 'listening');
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  log(`listening on http://${values.host}:${boundPort} (pid ${process.pid}), warming up`);
  // Health turns green only after a real token: "listening" is not "ready" (a known trap).
  const warm = performance.now();
  await warmUp(engine);
  markReady();
  log(`ready in ${(performance.now() - warm).toFixed(0)} ms of warm-up`);
  const signal = await Promise.race([...['SIGINT', 'SIGTERM'].map(async (s) => (await once(process, s), s)), orphaned()]);
  log(`${signal}: shutting down`);
  server.closeAllConnections();
  server.close();
  await engine.dispose();
  return 0;
}

/**
 * Resolves once the process that started this server is gone. A `conform run` killed with SIGKILL
 * cannot stop what it launched; without this, its engine would hold a port and memory until reboot.
 */
function orphaned(): Promise<string> {
  const parent = process.ppid;
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (process.ppid !== parent) clearInterval(timer), resolve('parent process gone');
    }, 1_000);
    timer.unref();
  });
}

/**
 * Warm up with a full batch of prompt tokens, not one word. ggml's Vulkan backend grows its
 * scratch buffers the first time a longer prompt arrives; on Mesa 22.3's llvmpipe that regrowth
 * mid-run crashed the process in libvulkan_lvp.so (gdb: a double free on lavapipe's queue
 * thread) in about 1 of 3 runs. Growing them once, before any request, avoids it.
 */
async function warmUp(engine: LlamaEngine): Promise<void> {
  const filler = engine.model.tokenize('The quick brown fox jumps over the lazy dog. '.repeat(64), false);
  const prompt = filler.slice(0, Math.min(512, engine.contextSize - 8));
  await engine.generate({ prompt, maxTokens: 1, temperature: 0, topLogprobs: 0, stop: [] });
}
