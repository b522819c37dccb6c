// Sends a recorded exchange's request through the real runner to a replay of its response.

import type { Case, Sample } from '../../../src/core/types.ts';
import { createOpenAiHttpRunner } from '../../../src/runners/openai-http-runner.ts';
import { startReplayServer, type ReceivedRequest, type ReplayStep } from '../../helpers/replay-server.ts';
import { caseFromRequest } from './case-from-request.ts';
import type { RecordedExchange } from './recorded-exchange.ts';

/** The Case for an exchange; a request that is not JSON (on purpose) is stood in for by a minimal chat Case. */
export function caseOf(exchange: RecordedExchange): Case {
  try {
    return caseFromRequest(exchange.name, JSON.parse(exchange.requestText ?? '') as Record<string, unknown>);
  } catch {
    return { id: exchange.name, endpoint: 'chat', messages: [{ role: 'user', content: 'x' }], params: {}, checks: [] };
  }
}

/** Runs the exchange end to end over loopback; `step` overrides how the response is written. */
export async function replayExchange(exchange: RecordedExchange, step: ReplayStep = { bytes: exchange.wire }): Promise<{ sample: Sample; request: ReceivedRequest | undefined }> {
  const server = await startReplayServer([step]);
  try {
    const runner = createOpenAiHttpRunner({ backend: exchange.dir, baseUrl: server.baseUrl, model: 'tiny', maxRetries: 0, requestTimeoutMs: 10_000 });
    const sample = await runner.run(caseOf(exchange));
    return { sample, request: server.requests[0] };
  } finally {
    await server.close();
  }
}
