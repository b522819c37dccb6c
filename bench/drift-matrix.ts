// Benchmark, not a test: how far do healthy backends drift from each other? The evidence behind the class
// tolerances in src/core/tolerance.ts.
//
//   npx tsx bench/drift-matrix.ts                       (start the backends, send, analyse)
//   DRIFT_FROM=reports/bench-drift-matrix-samples.json npx tsx bench/drift-matrix.ts   (analyse saved samples again)
//
// Starts each backend in turn (never two at once: on a small machine they would time each other): conform serve
// on cpu and vulkan, and llama.cpp's own llama-server (scripts/build-peer.sh) on cpu and vulkan, all with the
// fixture model and one thread. Sends every greedy request case of the default suites once (smoke,
// function-calling, determinism, and long-context up to 4K tokens), then, for every pair of backends and every
// case both answered, reports: the prompt tokens each read (a case whose prompts differ is not drift: the
// engines rendered tools or the template differently, and it is listed, not averaged in), where the greedy
// sequences part and the logprob gaps there, mean and max KLD over the shared prefix (distribution.ts), and
// |Δlogprob| of the chosen token at the positions greedy-divergence compares (inside both sides' top-k, not
// grammar-forced: src/assertions/prefix-drift.ts) as p50, p99 and max, with how many positions were left out
// and why, and the max over every position as the old check took it.
//
// Environment: DRIFT_BACKENDS (default cs-cpu,cs-vulkan,ls-cpu,ls-vulkan), DRIFT_TOP_K (the k of "inside the
// top-k", default 5), DRIFT_FROM (saved samples: skip the servers), DRIFT_OUT (default reports/bench-drift-matrix.json;
// the samples go beside it as <name>-samples.json).

import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { distributionStats } from '../src/assertions/distribution.ts';
import { prefixDrift } from '../src/assertions/prefix-drift.ts';
import { findInTopK, firstDivergence } from '../src/assertions/tokens.ts';
import { quantile } from '../src/core/statistics.ts';
import type { BackendConfig, Case, Sample } from '../src/core/types.ts';
import { ensureFixtureModel } from '../src/engine/fixture-model/ensure-fixture-model.ts';
import { launchBackend } from '../src/launch/launch-backend.ts';
import { createOpenAiHttpRunner } from '../src/runners/openai-http-runner.ts';
import { loadSuites } from '../src/suites/load-suites.ts';
import { startPeer } from '../test/helpers/llama-server.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const backendNames = (process.env.DRIFT_BACKENDS ?? 'cs-cpu,cs-vulkan,ls-cpu,ls-vulkan').split(',').map((s) => s.trim()).filter(Boolean);
const topK = Number(process.env.DRIFT_TOP_K ?? 5);
if (!Number.isInteger(topK) || topK < 1) throw new Error(`DRIFT_TOP_K must be a positive integer, got ${process.env.DRIFT_TOP_K}`);
const outFile = resolve(root, process.env.DRIFT_OUT ?? 'reports/bench-drift-matrix.json');
const samplesFile = outFile.replace(/\.json$/, '') + '-samples.json';

type Samples = Record<string, Record<string, Sample>>;

/** The greedy chat and completion cases of the default suites that fit a 4K context. */
function selectedCases(): Array<{ key: string; testCase: Case }> {
  const suites = loadSuites(['suites/smoke.yaml', 'suites/function-calling.yaml', 'suites/determinism.yaml', 'suites/long-context.yaml'], root);
  const out: Array<{ key: string; testCase: Case }> = [];
  for (const suite of suites)
    for (const testCase of suite.cases) {
      if (testCase.endpoint !== 'chat' && testCase.endpoint !== 'completion') continue;
      if ((testCase.params.temperature ?? 1) !== 0) continue;
      if ((testCase.requires?.contextTokens ?? 0) > 4096) continue;
      out.push({ key: `${suite.name}/${testCase.id}`, testCase: { ...testCase, repeat: undefined } });
    }
  return out;
}

async function start(name: string, modelPath: string, logDir: string): Promise<{ baseUrl: string; stop(): Promise<void> }> {
  const [kind, gpu] = name.split('-') as [string, string];
  if (gpu !== 'cpu' && gpu !== 'vulkan') throw new Error(`backend ${name}: expected cs-cpu, cs-vulkan, ls-cpu or ls-vulkan`);
  if (kind === 'ls') return startPeer({ gpu, modelPath, logDir });
  if (kind !== 'cs') throw new Error(`backend ${name}: expected cs-cpu, cs-vulkan, ls-cpu or ls-vulkan`);
  const config: BackendConfig = { name, class: gpu, model: 'conform-tiny', launch: { command: 'conform', args: ['serve', '--gpu', gpu, '--model', '{model}', '--port', '{port}', '--threads', '1'] } };
  const outcome = await launchBackend(config, { modelPath, logFile: join(logDir, `${name}.log`), env: process.env });
  if (outcome.state !== 'ready') throw new Error(`${name} ${outcome.state}: ${outcome.reason}`);
  return outcome.backend;
}

async function collect(): Promise<Samples> {
  const { path: modelPath } = await ensureFixtureModel(join(root, '.cache', 'conform'));
  const logDir = mkdtempSync(join(tmpdir(), 'drift-matrix-'));
  const cases = selectedCases();
  // Saved after each backend, so a crash late in the run keeps what the earlier backends answered.
  const samples: Samples = {};
  for (const name of backendNames) {
    process.stderr.write(`${name}: starting (logs in ${logDir})\n`);
    const server = await start(name, modelPath, logDir);
    try {
      const runner = createOpenAiHttpRunner({ backend: name, baseUrl: server.baseUrl, model: 'conform-tiny', maxRetries: 0, requestTimeoutMs: 900_000, idleTimeoutMs: 600_000, firstByteTimeoutMs: 900_000 });
      const mine: Record<string, Sample> = (samples[name] = {});
      for (const { key, testCase } of cases) {
        mine[key] = await runner.run(testCase);
        const s = mine[key]!;
        process.stderr.write(`  ${key}: ${s.kind}${s.error ? ` (${s.error.message.slice(0, 80)})` : ''}, ${s.tokens.length} tokens, prompt ${s.usage?.promptTokens ?? '?'}\n`);
      }
    } finally {
      await server.stop();
    }
    mkdirSync(dirname(samplesFile), { recursive: true });
    writeFileSync(samplesFile, JSON.stringify(samples));
  }
  return samples;
}

interface CaseRow {
  pair: string;
  key: string;
  promptTokens: [number | undefined, number | undefined];
  /** Set when the two read different prompts: the row is listed, not pooled. */
  promptDiffers: boolean;
  tokens: [number, number];
  divergenceIndex: number | null;
  divergence?: { mutualTopK: boolean; gapA: number | null; gapB: number | null };
  meanKld: number;
  maxKld: number;
  drift: ReturnType<typeof prefixDrift>;
  /** The old check's figure: max |Δlogprob| over every shared position. */
  maxAllPositions: number;
}

function gapAt(chooser: Sample, other: Sample, i: number): number | null {
  const mine = chooser.tokens[i]!;
  const alt = findInTopK(mine, other.tokens[i]!, mine.top.length);
  return alt && mine.logprob !== undefined ? mine.logprob - alt.logprob : null;
}

function compare(pair: string, key: string, a: Sample, b: Sample): CaseRow {
  const d = firstDivergence(a.tokens, b.tokens);
  const end = d === -1 ? Math.min(a.tokens.length, b.tokens.length) : d;
  const stats = distributionStats(a.tokens, b.tokens);
  let maxAll = 0;
  for (let i = 0; i < end; i++) {
    const x = a.tokens[i]!.logprob;
    const y = b.tokens[i]!.logprob;
    if (x !== undefined && y !== undefined) maxAll = Math.max(maxAll, Math.abs(x - y));
  }
  const pa = a.usage?.promptTokens;
  const pb = b.usage?.promptTokens;
  const row: CaseRow = {
    pair,
    key,
    promptTokens: [pa, pb],
    promptDiffers: pa !== pb,
    tokens: [a.tokens.length, b.tokens.length],
    divergenceIndex: d === -1 ? null : d,
    meanKld: stats.meanKld,
    maxKld: stats.maxKld,
    drift: prefixDrift(a.tokens, b.tokens, end, topK),
    maxAllPositions: maxAll,
  };
  if (d >= 0) {
    const ta = a.tokens[d]!;
    const tb = b.tokens[d]!;
    row.divergence = { mutualTopK: !!findInTopK(ta, tb, topK) && !!findInTopK(tb, ta, topK), gapA: gapAt(a, b, d), gapB: gapAt(b, a, d) };
  }
  return row;
}

const f = (x: number | null | undefined, digits = 3) => (x === null || x === undefined ? '—' : x.toFixed(digits));
const e = (x: number) => x.toExponential(1);

function analyse(samples: Samples): { rows: CaseRow[]; table: string[] } {
  const names = Object.keys(samples);
  const rows: CaseRow[] = [];
  const table = [
    `| pair | cases (same prompt) | prompt differs | diverged at (gaps A/B, mutual top-${topK}) | mean KLD: mean / max | max KLD | |Δlogprob| compared: n, p50 / p99 / max | NMSE, worst case | excluded: forced / outside top-${topK} | old max (all positions) |`,
    '|---|---:|---|---|---|---:|---|---:|---|---:|',
  ];
  for (let i = 0; i < names.length; i++)
    for (let j = i + 1; j < names.length; j++) {
      const [na, nb] = [names[i]!, names[j]!];
      const pair = `${na} vs ${nb}`;
      const mine: CaseRow[] = [];
      for (const [key, a] of Object.entries(samples[na]!)) {
        const b = samples[nb]![key];
        if (!b || a.kind !== 'ok' || b.kind !== 'ok' || a.tokens.length === 0 || b.tokens.length === 0) continue;
        mine.push(compare(pair, key, a, b));
      }
      rows.push(...mine);
      const same = mine.filter((r) => !r.promptDiffers);
      const differing = mine.filter((r) => r.promptDiffers);
      const range = (k: 0 | 1) => {
        const counts = differing.map((r) => r.promptTokens[k] ?? NaN);
        return `${Math.min(...counts)}–${Math.max(...counts)}`;
      };
      const differs = differing.length ? [`${differing.length} cases, prompt tokens ${range(0)} vs ${range(1)}: ${differing.map((r) => r.key.split('/')[1]).join(', ')}`] : [];
      const diverged = same.filter((r) => r.divergenceIndex !== null).map((r) => `${r.key}@${r.divergenceIndex} (${f(r.divergence?.gapA)}/${f(r.divergence?.gapB)}${r.divergence?.mutualTopK ? '' : ', not mutual'})`);
      const deltas = same.flatMap((r) => r.drift.deltas);
      const klds = same.map((r) => r.meanKld);
      const forced = same.reduce((n, r) => n + r.drift.excluded.forced, 0);
      const outside = same.reduce((n, r) => n + r.drift.excluded.outsideTopK, 0);
      table.push(
        `| ${pair} | ${same.length} | ${differs.length ? differs.join('; ') : 'none'} | ${diverged.length ? diverged.join('; ') : 'none'} | ${klds.length ? `${e(klds.reduce((s, x) => s + x, 0) / klds.length)} / ${e(Math.max(...klds))}` : '—'} | ${same.length ? e(Math.max(...same.map((r) => r.maxKld))) : '—'} | ${deltas.length}, ${deltas.length ? `${f(quantile(deltas, 0.5), 4)} / ${f(quantile(deltas, 0.99), 4)} / ${f(Math.max(...deltas), 4)}` : '—'} | ${same.length ? e(Math.max(...same.map((r) => r.drift.nmse))) : '—'} | ${forced} / ${outside} | ${same.length ? f(Math.max(...same.map((r) => r.maxAllPositions))) : '—'} |`,
      );
    }
  return { rows, table };
}

const samples: Samples = process.env.DRIFT_FROM ? (JSON.parse(readFileSync(resolve(root, process.env.DRIFT_FROM), 'utf8')) as Samples) : await collect();
mkdirSync(dirname(outFile), { recursive: true });
const { rows, table } = analyse(samples);
writeFileSync(outFile, JSON.stringify({ topK, backends: Object.keys(samples), rows: rows.map(({ drift: { deltas: _deltas, ...drift }, ...row }) => ({ ...row, drift })) }, null, 1));
process.stdout.write(`${table.join('\n')}\n\nPer-case rows: ${outFile}${process.env.DRIFT_FROM ? '' : `; samples: ${samplesFile}`}\n`);
