import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConformError } from '../../core/errors.ts';
import { buildFixtureModel, FIXTURE_PRECISIONS, fixtureModelSha256, type FixturePrecision } from '../../engine/fixture-model/create-fixture-model.ts';
import { ensureFixtureModel } from '../../engine/fixture-model/ensure-fixture-model.ts';
import { createLlamaEngine, EngineUnavailableError, KV_CACHE_TYPES, type GpuChoice, type KvCacheType, type LlamaEngine } from '../../engine/llama-engine.ts';
import { createEngineServer } from '../../engine/server.ts';
import { ensureVulkanVisibility } from '../../engine/vulkan-visibility.ts';
import { intFlag, parseCommandArgs } from '../args.ts';
import type { CliContext } from '../context.ts';

export { SERVE_HELP } from '../command-help.ts';
import { SERVE_HELP } from '../command-help.ts';

const GPUS: GpuChoice[] = ['cpu', 'vulkan', 'cuda', 'metal', 'auto'];
/** sysexits' EX_UNAVAILABLE: launchers read it as "this backend cannot run here", a skip rather than a crash. */
export const EXIT_UNAVAILABLE = 69;

function onOff(name: string, value: string): boolean {
  if (value !== 'on' && value !== 'off') throw new ConformError('USAGE', `--${name} "${value}", expected on or off, for example --${name} on`);
  return value === 'on';
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[], example: T): T {
  if (!(allowed as readonly string[]).includes(value)) throw new ConformError('USAGE', `--${name} "${value}", expected one of ${allowed.join(', ')}, for example --${name} ${example}`);
  return value as T;
}

/**
 * The model to load: --model as given, or the fixture at the asked precision. A precision variant is
 * derived from the f32 fixture only (conform has no GGUF quantizer for other models), so a --model that
 * is not the fixture makes this backend unavailable here, a skip with the reason, never a wrong model.
 */
async function modelFor(given: string | undefined, weights: FixturePrecision, cacheDir: string): Promise<{ path: string; derivedFromSha256?: string } | { unavailable: string }> {
  if (weights === 'f32') return { path: given ?? (await ensureFixtureModel(cacheDir)).path };
  // Said on /v1/models, so that golden recorded with the f32 fixture is known to be this model's source.
  const referenceSha256 = fixtureModelSha256(buildFixtureModel());
  if (given === undefined) return { path: (await ensureFixtureModel(cacheDir, weights)).path, derivedFromSha256: referenceSha256 };
  if (fileSha256(given) !== referenceSha256)
    return { unavailable: `--weights ${weights} derives the fixture model's ${weights} variant, but --model ${given} is not the f32 fixture (sha256 ${referenceSha256.slice(0, 12)}…); give a ${weights} GGUF with --model instead` };
  return { path: (await ensureFixtureModel(dirname(given), weights)).path, derivedFromSha256: referenceSha256 };
}

function fileSha256(path: string): string | undefined {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch {
    return undefined;
  }
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
    'kv-cache-type': { type: 'string' },
    'batch-size': { type: 'string' },
    weights: { type: 'string', default: 'f32' },
    help: { type: 'boolean' },
  });
  if (values.help) return ctx.out(SERVE_HELP), 0;
  const gpu = values.gpu as GpuChoice;
  if (!GPUS.includes(gpu)) throw new ConformError('USAGE', `--gpu "${values.gpu}", expected one of ${GPUS.join(', ')}, for example --gpu vulkan`);
  const port = intFlag('port', values.port, 8080);
  const weights = oneOf('weights', values.weights!, FIXTURE_PRECISIONS, 'q8_0');
  const kvCacheType = values['kv-cache-type'] === undefined ? undefined : oneOf('kv-cache-type', values['kv-cache-type'], KV_CACHE_TYPES, 'q8_0');
  const batchSize = values['batch-size'] === undefined ? undefined : intFlag('batch-size', values['batch-size'], 512, 1);
  const log = (line: string) => ctx.err(`conform serve [${gpu}]: ${line}`);
  const model = await modelFor(values.model, weights, ctx.cacheDir);
  if ('unavailable' in model) return log(`unavailable: ${model.unavailable}`), EXIT_UNAVAILABLE;
  const modelPath = model.path;
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
      kvCacheType,
      batchSize,
    });
  } catch (error) {
    if (error instanceof EngineUnavailableError) {
      log(`unavailable: ${error.message}`);
      return EXIT_UNAVAILABLE;
    }
    // llama.cpp says why on its own log lines just above (a KV cache type the head size does not fit, say).
    throw new ConformError('BACKEND_LAUNCH_FAILED', `the engine did not start: ${(error as Error).message}; llama.cpp's lines above say why`, { cause: error });
  }
  log(`device ${engine.identity.device} (${engine.identity.driver}), context ${engine.contextSize}`);
  const { server, markReady } = createEngineServer({ engine, modelName: values['model-name']!, derivedFromSha256: model.derivedFromSha256 });
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
