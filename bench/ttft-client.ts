// One client of the TTFT accuracy benchmark, run as a child process: it gets a plan over IPC, sends its
// requests one at a time, and answers with one measurement per request. Nothing but types may be imported
// from this file: importing it waits for a plan.
//
// Two kinds, so the runner's overhead can be told from the machine's:
// - 'runner': conform's createOpenAiHttpRunner, the code whose TTFT reports are in question;
// - 'bare':   undici `request` and a loop that only timestamps each network read and keeps it; the SSE is
//             parsed after the body ended, so nothing delays the reads. This is the floor any client on this
//             machine at this moment could reach.
// Both time from just before `request()` to the network read that completed the first content event.

import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import type { Case } from '../src/core/types.ts';
import { createOpenAiHttpRunner } from '../src/runners/openai-http-runner.ts';
import type { Runner } from '../src/runners/runner.ts';

export type ClientKind = 'runner' | 'bare';

export interface ClientPlan {
  kind: ClientKind;
  port: number;
  delaysMs: number[];
  perDelay: number;
  /** Requests sent first at the smallest delay and thrown away: connection set-up, JIT warm-up. */
  warmup: number;
}

export interface Measurement {
  delayMs: number;
  ok: boolean;
  /** The client's TTFT: ms from sending to the arrival of the first content chunk. */
  measuredMs?: number;
  /** The server's: ms from the request's arrival to the write of the first content chunk. */
  trueMs?: number;
  error?: string;
}

export interface ClientDone {
  kind: ClientKind;
  measurements: Measurement[];
  wallMs: number;
}

const MODEL = 'bench';
const MESSAGES = [{ role: 'user' as const, content: 'Count to five.' }];
const TRUTH = 'server_first_content_ms';

const url = (port: number, delayMs: number): string => `http://127.0.0.1:${port}/d/${delayMs}/v1`;

const testCase: Case = { id: 'ttft', endpoint: 'chat', messages: MESSAGES, params: { stream: true, max_tokens: 8 }, checks: [] };
// One runner per delay (the delay is in the URL); they share undici's global pool, so one kept-alive connection.
const runners = new Map<number, Runner>();

async function viaRunner(port: number, delayMs: number): Promise<Measurement> {
  let runner = runners.get(delayMs);
  if (!runner) {
    runner = createOpenAiHttpRunner({ backend: 'bench', baseUrl: url(port, delayMs), model: MODEL, maxRetries: 0, requestTimeoutMs: 10_000 });
    runners.set(delayMs, runner);
  }
  const sample = await runner.run(testCase);
  const measuredMs = sample.timings.firstTokenMs;
  const trueMs = sample.serverTimings?.[TRUTH];
  if (sample.kind !== 'ok' || measuredMs === undefined || trueMs === undefined) {
    return { delayMs, ok: false, error: sample.error?.message ?? `kind ${sample.kind}, firstTokenMs ${measuredMs}, truth ${trueMs}` };
  }
  return { delayMs, ok: true, measuredMs, trueMs };
}

// The same body the runner sends, so both requests cost the server the same.
const BARE_BODY = JSON.stringify({ model: MODEL, messages: MESSAGES, stream: true, max_tokens: 8, stream_options: { include_usage: true } });

async function viaBare(port: number, delayMs: number): Promise<Measurement> {
  const reads: Array<{ atMs: number; bytes: Uint8Array }> = [];
  const t0 = performance.now();
  try {
    const res = await request(`${url(port, delayMs)}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BARE_BODY });
    for await (const bytes of res.body) reads.push({ atMs: performance.now() - t0, bytes: bytes as Uint8Array });
    if (res.statusCode !== 200) return { delayMs, ok: false, error: `HTTP ${res.statusCode}` };
  } catch (err) {
    return { delayMs, ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  // Parsed only now: an event counts at the read that completed it, as in the runner.
  const decoder = new TextDecoder();
  let buffer = '';
  let measuredMs: number | undefined;
  let trueMs: number | undefined;
  for (const { atMs, bytes } of reads) {
    buffer += decoder.decode(bytes, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      for (const line of block.split('\n')) {
        if (!line.startsWith('data:')) continue;
        const data = line.slice(5).trim();
        if (data === '[DONE]') continue;
        const parsed = JSON.parse(data) as { choices?: Array<{ delta?: { content?: string } }>; [TRUTH]?: number };
        if (measuredMs === undefined && (parsed.choices?.[0]?.delta?.content ?? '') !== '') measuredMs = atMs;
        if (typeof parsed[TRUTH] === 'number') trueMs = parsed[TRUTH];
      }
    }
  }
  if (measuredMs === undefined || trueMs === undefined) return { delayMs, ok: false, error: `firstTokenMs ${measuredMs}, truth ${trueMs}` };
  return { delayMs, ok: true, measuredMs, trueMs };
}

async function run(plan: ClientPlan): Promise<ClientDone> {
  const once = plan.kind === 'runner' ? viaRunner : viaBare;
  const started = performance.now();
  const smallest = Math.min(...plan.delaysMs);
  for (let i = 0; i < plan.warmup; i++) await once(plan.port, smallest);
  const measurements: Measurement[] = [];
  for (const delayMs of plan.delaysMs) {
    for (let i = 0; i < plan.perDelay; i++) measurements.push(await once(plan.port, delayMs));
  }
  return { kind: plan.kind, measurements, wallMs: performance.now() - started };
}

process.once('message', (plan: ClientPlan) => {
  run(plan).then(
    (done) => process.send?.(done, () => process.exit(0)),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
});
