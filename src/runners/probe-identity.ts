import { request } from 'undici';
import { redactSecrets } from '../core/redact.ts';
import type { BackendIdentity } from '../core/types.ts';

interface ModelsBody {
  data?: Array<{ id?: string; owned_by?: string; meta?: Record<string, unknown> }>;
}

const str = (value: unknown) => (typeof value === 'string' ? value : undefined);

/** Asks /v1/models who is answering. conform serve reports engine and device in `meta`; other servers say less. */
export async function probeIdentity(baseUrl: string, apiKey?: string): Promise<BackendIdentity> {
  const headers: Record<string, string> = apiKey ? { authorization: `Bearer ${apiKey}` } : {};
  try {
    const response = await request(`${baseUrl}/models`, { headers, headersTimeout: 10_000, bodyTimeout: 10_000 });
    if (response.statusCode !== 200) {
      await response.body.dump();
      return {};
    }
    const body = (await response.body.json()) as ModelsBody;
    const model = body.data?.[0];
    const meta = model?.meta ?? {};
    const server = str(response.headers.server);
    return redactSecrets({
      engine: str(meta.engine) ?? server ?? str(model?.owned_by),
      engineVersion: str(meta.engine_version),
      device: str(meta.device),
      driver: str(meta.driver),
      gpu: str(meta.gpu),
      model: model?.id,
      modelSha256: str(meta.model_sha256),
      contextSize: typeof meta.context_size === 'number' ? meta.context_size : undefined,
    }, apiKey ? [apiKey] : []);
  } catch {
    return {};
  }
}
