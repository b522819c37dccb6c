// Asks a server who is answering: engine, device, model, context and a fingerprint of the weights, from
// whatever it exposes. Every probe is bounded in time and size, so a server that dribbles a byte a second
// cannot hold a run, and Ctrl-C ends it at once.

import { request, type Dispatcher } from 'undici';
import { redactSecrets } from '../core/redact.ts';
import type { BackendIdentity } from '../core/types.ts';
import { readBounded } from './bounded-body.ts';
import { connectionReleased } from './connection-pool.ts';

export interface ProbeIdentityOptions {
  /** The backend's connection pool, so the runner's first request reuses the probe's connection. */
  dispatcher?: Dispatcher;
  /** The run's signal: Ctrl-C ends the probe. */
  signal?: AbortSignal;
  /** Limit for each probe request, from sending to the end of its body. @default 10000 */
  timeoutMs?: number;
  /** Largest probe body read; /props carries the chat template, tens of KiB at most. @default 1048576 */
  maxBodyBytes?: number;
  /** Context size to assume when the server states none (a preset's documented default). */
  defaultContextSize?: number;
}

type Json = Record<string, unknown>;

const isRecord = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (value: unknown) => (typeof value === 'string' ? value : undefined);
const count = (value: unknown) => (typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined);

/** GETs one JSON document within the deadline and the size cap; undefined for anything else. */
async function getJson(url: string, headers: Record<string, string>, options: ProbeIdentityOptions): Promise<{ body: Json; server?: string } | undefined> {
  const deadline = AbortSignal.timeout(Math.ceil(options.timeoutMs ?? 10_000));
  const signal = options.signal ? AbortSignal.any([deadline, options.signal]) : deadline;
  try {
    const response = await request(url, { headers, signal, ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}) });
    if (response.statusCode !== 200) {
      await readBounded(response.body, 64 * 1024);
      await connectionReleased();
      return undefined;
    }
    const read = await readBounded(response.body, options.maxBodyBytes ?? 1024 * 1024);
    if (read.truncated) return undefined;
    await connectionReleased();
    const body: unknown = JSON.parse(Buffer.from(read.bytes).toString('utf8'));
    return isRecord(body) ? { body, server: str(response.headers.server) } : undefined;
  } catch {
    return undefined;
  }
}

function fingerprintOf(meta: Json): BackendIdentity['modelFingerprint'] {
  const fingerprint = {
    vocabSize: count(meta.n_vocab),
    parameters: count(meta.n_params),
    embeddingWidth: count(meta.n_embd),
    trainedContext: count(meta.n_ctx_train),
    bytes: count(meta.size),
  };
  const known = Object.fromEntries(Object.entries(fingerprint).filter(([, v]) => v !== undefined));
  return Object.keys(known).length > 0 ? known : undefined;
}

// The tokens one request may hold, most specific first: conform serve's own field, llama-server's per-slot
// context on /props (b4748's /v1/models has no n_ctx at all; b1-80fb11a with -c 4096 -np 2 says 2048 on
// both), vLLM's max_model_len, llama-server's n_ctx on /v1/models, then the preset's documented default.
function contextOf(meta: Json, model: Json, props: Json | undefined, fallback: number | undefined): number | undefined {
  const settings = isRecord(props?.default_generation_settings) ? props.default_generation_settings : {};
  return count(meta.context_size) ?? count(settings.n_ctx) ?? count(model.max_model_len) ?? count(meta.n_ctx) ?? fallback;
}

/** Asks /v1/models (and llama-server's /props) who is answering; a server that says nothing gives an empty identity. */
export async function probeIdentity(baseUrl: string, apiKey?: string, options: ProbeIdentityOptions = {}): Promise<BackendIdentity> {
  const base = baseUrl.replace(/\/+$/, '');
  const headers: Record<string, string> = apiKey ? { authorization: `Bearer ${apiKey}` } : {};
  const models = await getJson(`${base}/models`, headers, options);
  if (options.signal?.aborted) return {};
  const model = Array.isArray(models?.body.data) && isRecord(models.body.data[0]) ? models.body.data[0] : undefined;
  // /props lives beside /v1 on llama-server, which says who it is; other servers are not sent requests they never offered.
  const isLlamaServer = /llama\.cpp/i.test(models?.server ?? '') || model?.owned_by === 'llamacpp';
  const props = isLlamaServer ? await getJson(`${base.replace(/\/v1$/, '')}/props`, headers, options) : undefined;
  if (!model) return options.defaultContextSize !== undefined ? { contextSize: options.defaultContextSize } : {};
  const meta = isRecord(model.meta) ? model.meta : {};
  const identity: BackendIdentity = {
    engine: str(meta.engine) ?? models?.server ?? str(model.owned_by),
    engineVersion: str(meta.engine_version) ?? str(props?.body.build_info),
    device: str(meta.device),
    driver: str(meta.driver),
    gpu: str(meta.gpu),
    model: str(model.id),
    modelSha256: str(meta.model_sha256),
    derivedFromSha256: str(meta.derived_from_sha256),
    contextSize: contextOf(meta, model, props?.body, options.defaultContextSize),
    modelFingerprint: fingerprintOf(meta),
  };
  const defined = Object.fromEntries(Object.entries(identity).filter(([, v]) => v !== undefined)) as BackendIdentity;
  return redactSecrets(defined, apiKey ? [apiKey] : []);
}
