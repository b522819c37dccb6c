// What the engine says about itself against what conform measured: a large gap is a measurement problem
// on one side, and a prefix cache that never hits on repeated requests is worth a line. Pure; lines for
// the reports, never verdicts.

import type { CrossCheck, EngineMetrics, RequestRecord } from '../core/telemetry-types.ts';
import { counterIncrease, type VocabularyPoint } from './metrics/metrics-summary.ts';

// The client's TTFT includes sending the request, loopback delivery and parsing the first chunk: about a
// millisecond on loopback (bench/ttft-accuracy.ts: p99 under 2 ms). More than 25 ms, and more than a
// quarter of the figure, is not that overhead any more but a clock or a definition that differs.
const CLIENT_OVERHEAD_LIMIT_MS = 25;
const CLIENT_OVERHEAD_LIMIT_FRACTION = 0.25;
// The engine can never see a first token later than the client does; a few ms of clock granularity aside.
const ENGINE_AHEAD_LIMIT_MS = 5;

const ms = (v: number) => `${v.toFixed(v < 10 ? 2 : 1)} ms`;
const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;

/** The engine's TTFT histogram (sum ÷ count over the window) against conform's TTFT of the streamed requests. */
export function engineTtftCheck(records: readonly RequestRecord[], metrics: EngineMetrics | undefined): CrossCheck {
  const check = 'engine-ttft' as const;
  const engineMean = metrics?.summary.ttftMeanMs;
  const engineCount = metrics?.summary.ttftCount ?? 0;
  if (engineMean === undefined || engineCount === 0)
    return { check, status: 'not-checked', message: `the engine reports no TTFT histogram${metrics?.family ? ` (${metrics.family} has none)` : ''}; nothing to compare conform's TTFT with` };
  const timed = records.filter((r) => r.ok && r.streamed && r.ttftMs !== undefined).map((r) => r.ttftMs!);
  if (timed.length === 0) return { check, status: 'not-checked', message: `the engine timed ${engineCount} first tokens, but no request was streamed, so conform timed none` };
  const clientMean = mean(timed);
  const gap = clientMean - engineMean;
  const population = engineCount === timed.length ? `${timed.length} streamed requests` : `${engineCount} requests by the engine's count, ${timed.length} streamed ones by conform's (the populations differ)`;
  const figures = `engine TTFT mean ${ms(engineMean)}, conform ${ms(clientMean)} over ${population}`;
  if (gap > Math.max(CLIENT_OVERHEAD_LIMIT_MS, CLIENT_OVERHEAD_LIMIT_FRACTION * clientMean))
    return { check, status: 'flagged', message: `${figures}: conform's figure is ${ms(gap)} longer, more than client overhead explains; one side measures something else (queueing before the engine's clock starts, or a loaded client)` };
  if (gap < -Math.max(ENGINE_AHEAD_LIMIT_MS, 0.1 * clientMean))
    return { check, status: 'flagged', message: `${figures}: the engine says its first token took ${ms(-gap)} longer than conform saw it arrive, which cannot be; the engine's histogram measures something else` };
  return { check, status: 'agrees', message: `${figures}: conform adds ${ms(gap)} (request, loopback, parsing)` };
}

interface RepeatGroup {
  caseId: string;
  requests: RequestRecord[];
}

/** Runs of one case's same request sent one after another (each starting after the previous answer ended). */
function serialRepeats(records: readonly RequestRecord[]): RepeatGroup[] {
  const ordered = [...records].sort((a, b) => a.startMs - b.startMs);
  const groups: RepeatGroup[] = [];
  for (const r of ordered) {
    const last = groups[groups.length - 1];
    const previous = last?.requests[last.requests.length - 1];
    // One case's repeats: another case that happens to send the same request is not its repeat.
    if (last && previous && previous.caseId === r.caseId && previous.fingerprint === r.fingerprint && r.startMs >= previous.endMs) last.requests.push(r);
    else groups.push({ caseId: r.caseId, requests: [r] });
  }
  return groups.filter((g) => g.requests.length >= 2 && g.requests.every((r) => r.ok));
}

function hitsBetween(points: readonly VocabularyPoint[], from: number, to: number): number | undefined {
  const before = [...points].reverse().find((p) => p.t <= from && p.values.prefixCacheHits !== undefined);
  const after = points.find((p) => p.t >= to && p.values.prefixCacheHits !== undefined);
  if (!before || !after) return undefined;
  return counterIncrease(points.filter((p) => p.t >= before.t && p.t <= after.t).map((p) => p.values.prefixCacheHits));
}

/**
 * One line per case whose identical request was sent several times in a row: did the prefix cache hit
 * on the repeats? Told by the server's per-response cached tokens where it gives them (llama.cpp's
 * `timings.cache_n`), else by its prefix-cache counter over the repeats.
 */
export function prefixCacheChecks(records: readonly RequestRecord[], points: readonly VocabularyPoint[], metrics: EngineMetrics | undefined): CrossCheck[] {
  const check = 'prefix-cache' as const;
  const byDesign = metrics?.family === 'conform serve' ? ' (conform serve clears its sequence for every request, by design: reusing a cached prefix changed logprobs by about 1e-7)' : '';
  return serialRepeats(records).map((group): CrossCheck => {
    const repeats = group.requests.slice(1);
    const what = `${group.caseId}: ${group.requests.length} identical requests in a row`;
    const reported = repeats.filter((r) => r.cachedPromptTokens !== undefined);
    if (reported.length) {
      const cached = reported.reduce((n, r) => n + r.cachedPromptTokens!, 0);
      const prompt = reported.reduce((n, r) => n + (r.promptTokens ?? 0), 0);
      return cached > 0
        ? { check, status: 'agrees', message: `${what}: the repeats took ${cached} of ${prompt} prompt tokens from the cache (per response)` }
        : { check, status: 'flagged', message: `${what}: no repeat took a prompt token from the cache (per response, 0 of ${prompt})${byDesign}` };
    }
    const hits = hitsBetween(points, group.requests[1]!.startMs, group.requests[group.requests.length - 1]!.endMs);
    const source = metrics?.sources.prefixCacheHits;
    if (hits === undefined || !source)
      return { check, status: 'not-checked', message: `${what}: the server reports no cached tokens per response and no prefix-cache counter, so a cache hit cannot be seen` };
    return hits > 0
      ? { check, status: 'agrees', message: `${what}: prefix-cache hits rose by ${hits} during the repeats (${source})` }
      : { check, status: 'flagged', message: `${what}: prefix-cache hits did not rise during the repeats (${source} +0)${byDesign}` };
  });
}
