// Benchmark, not a test: how much do healthy outputs repeat themselves, per weight precision? The evidence behind
// the degeneration thresholds in src/assertions/degeneration.ts and the ones a tolerance class carries
// (src/core/tolerance.ts).
//
//   npx tsx bench/degeneration-calibration.ts                          (start the servers, send, analyse)
//   DEGEN_FROM=reports/bench-degeneration-samples.json npx tsx bench/degeneration-calibration.ts   (analyse again)
//
// Starts `conform serve --gpu cpu --threads 1` once per precision (F32, F16, Q8_0, Q4_0 of the fixture model), one
// at a time, and sends two sets of requests:
// - calibration: the 13 smoke prompts at temperature 0 with max_tokens 24, 96 and 256, streamed and not, with
//   logprobs (78 requests), the set the calibration comment in degeneration.ts describes;
// - suites: every chat and completion case of the bundled suites as the suite sends it (repeats sent once).
// For each answer it takes findDegeneration's measurements (longest `?` run, longest repeat, the loop that covers
// the most), on tokens and again on words (logprobs dropped), and prints per precision the maxima and where
// they were measured, then every sample the check's defaults or the precision's tolerance class flag.
//
// Environment: DEGEN_WEIGHTS (default f32,f16,q8_0,q4_0), DEGEN_FROM (saved samples: skip the servers),
// DEGEN_OUT (default reports/bench-degeneration.json; the samples go beside it as <name>-samples.json).

import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_DEGENERATION, degenerationOptions, findDegeneration, type DegenerationMeasurements, type DegenerationOptions } from '../src/assertions/degeneration.ts';
import { resolveTolerance } from '../src/core/tolerance.ts';
import type { BackendConfig, Case, Sample } from '../src/core/types.ts';
import { ensureFixtureModel } from '../src/engine/fixture-model/ensure-fixture-model.ts';
import { launchBackend } from '../src/launch/launch-backend.ts';
import { createOpenAiHttpRunner } from '../src/runners/openai-http-runner.ts';
import { loadSuites } from '../src/suites/load-suites.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const weights = (process.env.DEGEN_WEIGHTS ?? 'f32,f16,q8_0,q4_0').split(',').map((s) => s.trim()).filter(Boolean);
const outFile = resolve(root, process.env.DEGEN_OUT ?? 'reports/bench-degeneration.json');
const samplesFile = outFile.replace(/\.json$/, '') + '-samples.json';

type Samples = Record<string, Record<string, Sample>>;

/** The tolerance class the default matrix judges each precision with; Q4_0 has none, so cpu's. */
const CLASS_OF: Record<string, string> = { f32: 'cpu', f16: 'cpu', q8_0: 'cpu-q8', q4_0: 'cpu' };
const thresholdsOf = (weight: string): DegenerationOptions => degenerationOptions({ kind: 'degeneration' }, resolveTolerance(CLASS_OF[weight] ?? 'cpu')) as DegenerationOptions;

/** The calibration set and the bundled suites' chat and completion cases, keyed `<set>/<case>[@<variation>]`. */
function requests(): Array<{ key: string; testCase: Case }> {
  const out: Array<{ key: string; testCase: Case }> = [];
  const [smoke] = loadSuites(['suites/smoke.yaml'], root);
  for (const testCase of smoke!.cases)
    for (const maxTokens of [24, 96, 256])
      for (const stream of [false, true]) {
        const params = { ...testCase.params, temperature: 0, max_tokens: maxTokens, stream, logprobs: true, top_logprobs: testCase.params.top_logprobs ?? 10 };
        delete params.seed;
        out.push({ key: `calibration/${testCase.id}@${maxTokens}${stream ? 's' : ''}`, testCase: { ...testCase, params, repeat: undefined } });
      }
  for (const suite of loadSuites(['suites/*.yaml'], root))
    for (const testCase of suite.cases)
      if (testCase.endpoint === 'chat' || testCase.endpoint === 'completion') out.push({ key: `${suite.name}/${testCase.id}`, testCase: { ...testCase, repeat: undefined } });
  return out;
}

async function collect(): Promise<Samples> {
  const { path: modelPath } = await ensureFixtureModel(join(root, '.cache', 'conform'));
  const logDir = mkdtempSync(join(tmpdir(), 'degeneration-calibration-'));
  const cases = requests();
  const samples: Samples = {};
  for (const weight of weights) {
    const name = `cpu-${weight}`;
    process.stderr.write(`${name}: starting (logs in ${logDir})\n`);
    const config: BackendConfig = {
      name,
      class: 'cpu',
      model: 'conform-tiny',
      launch: { command: 'conform', args: ['serve', '--gpu', 'cpu', '--weights', weight, '--model', '{model}', '--port', '{port}', '--threads', '1'] },
    };
    const outcome = await launchBackend(config, { modelPath, logFile: join(logDir, `${name}.log`), env: process.env });
    if (outcome.state !== 'ready') throw new Error(`${name} ${outcome.state}: ${outcome.reason}`);
    const server = outcome.backend;
    try {
      const runner = createOpenAiHttpRunner({ backend: name, baseUrl: server.baseUrl, model: 'conform-tiny', maxRetries: 0, requestTimeoutMs: 900_000, idleTimeoutMs: 600_000, firstByteTimeoutMs: 900_000 });
      const mine: Record<string, Sample> = (samples[weight] = {});
      for (const { key, testCase } of cases) {
        const s = (mine[key] = await runner.run(testCase));
        if (s.kind !== 'ok') process.stderr.write(`  ${key}: ${s.kind} (${s.error?.message.slice(0, 80)})\n`);
      }
      process.stderr.write(`  ${cases.length} requests answered\n`);
    } finally {
      await server.stop();
    }
    // Saved after each precision, so a crash late in the run keeps what the earlier ones answered.
    mkdirSync(dirname(samplesFile), { recursive: true });
    writeFileSync(samplesFile, JSON.stringify(samples));
  }
  return samples;
}

interface Row {
  weight: string;
  key: string;
  on: 'token' | 'word';
  m: DegenerationMeasurements;
  /** Rules the check's defaults flag. */
  fires: string[];
  /** Rules the precision's class flags (CLASS_OF). */
  firesInClass: string[];
}

function measure(samples: Samples): Row[] {
  const rows: Row[] = [];
  for (const [weight, byKey] of Object.entries(samples))
    for (const [key, sample] of Object.entries(byKey)) {
      if (sample.kind !== 'ok' || (sample.text === '' && sample.tokens.length === 0)) continue;
      const views: Array<[Row['on'], Sample]> = [['word', { ...sample, tokens: [] }]];
      if (sample.tokens.length > 0) views.unshift(['token', sample]);
      for (const [on, view] of views) {
        const { findings, measurements } = findDegeneration(view, DEFAULT_DEGENERATION);
        const inClass = findDegeneration(view, thresholdsOf(weight)).findings;
        rows.push({ weight, key, on, m: measurements, fires: findings.map((f) => f.rule), firesInClass: inClass.map((f) => f.rule) });
      }
    }
  return rows;
}

const loopOf = (r: Row) => r.m.loop?.coverage ?? 0;
const where = (r: Row) => `${r.key}${r.m.loop ? ` (${r.m.loop.period}×${r.m.loop.copies} of ${r.m.units})` : ` (${r.m.units} ${r.on}s)`}`;
const maxBy = (rows: Row[], f: (r: Row) => number) => rows.reduce<Row | undefined>((best, r) => (!best || f(r) > f(best) ? r : best), undefined);

function table(rows: Row[]): string[] {
  const lines = [
    '| precision | set | on | samples | longest ?-run | longest repeat (where) | largest loop share (where) | 2nd largest loop share | flagged by defaults | flagged by its class |',
    '|---|---|---|---:|---:|---|---|---:|---:|---:|',
  ];
  for (const weight of [...new Set(rows.map((r) => r.weight))])
    for (const set of ['calibration', 'suites'])
      for (const on of ['token', 'word'] as const) {
        const mine = rows.filter((r) => r.weight === weight && r.on === on && (set === 'calibration') === r.key.startsWith('calibration/'));
        if (mine.length === 0) continue;
        const rep = maxBy(mine, (r) => r.m.longestRepeat)!;
        const loops = [...mine].sort((a, b) => loopOf(b) - loopOf(a));
        const garbage = Math.max(...mine.map((r) => r.m.longestGarbageRun));
        lines.push(
          `| ${weight} | ${set} | ${on} | ${mine.length} | ${garbage} | ${rep.m.longestRepeat} (${rep.key}) | ${loopOf(loops[0]!).toFixed(3)} (${where(loops[0]!)}) | ${loops[1] ? loopOf(loops[1]).toFixed(3) : '—'} | ${mine.filter((r) => r.fires.length > 0).length} | ${mine.filter((r) => r.firesInClass.length > 0).length} (${CLASS_OF[weight]}) |`,
        );
      }
  return lines;
}

const samples: Samples = process.env.DEGEN_FROM ? (JSON.parse(readFileSync(resolve(root, process.env.DEGEN_FROM), 'utf8')) as Samples) : await collect();
const rows = measure(samples);
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, JSON.stringify({ thresholds: DEFAULT_DEGENERATION, classes: Object.fromEntries(Object.keys(CLASS_OF).map((w) => [w, { class: CLASS_OF[w], thresholds: thresholdsOf(w) }])), rows }, null, 1));
const flagged = rows
  .filter((r) => r.fires.length > 0 || r.firesInClass.length > 0)
  .map((r) => `- ${r.weight} ${r.on}s ${where(r)}: defaults ${r.fires.join(', ') || 'none'}, ${CLASS_OF[r.weight]} ${r.firesInClass.join(', ') || 'none'}; loop share ${loopOf(r).toFixed(3)}, repeat ${r.m.longestRepeat}`);
const shares = (weight: string, on: Row['on']) =>
  rows
    .filter((r) => r.weight === weight && r.on === on)
    .map(loopOf)
    .filter((x) => x >= 0.25)
    .sort((a, b) => b - a)
    .map((x) => x.toFixed(2))
    .join(' ');
process.stdout.write(
  [
    ...table(rows),
    '',
    'Loop shares ≥ 0.25 per precision (tokens; words):',
    ...[...new Set(rows.map((r) => r.weight))].map((w) => `- ${w}: ${shares(w, 'token') || 'none'}; ${shares(w, 'word') || 'none'}`),
    '',
    `Flagged by the defaults (${JSON.stringify(DEFAULT_DEGENERATION)}) or by the precision's class (${Object.entries(CLASS_OF).map(([w, c]) => `${w}: ${c} ${JSON.stringify(thresholdsOf(w))}`).join('; ')}):`,
    ...(flagged.length ? flagged : ['none']),
    '',
    `Rows: ${outFile}${process.env.DEGEN_FROM ? '' : `; samples: ${samplesFile}`}`,
    '',
  ].join('\n'),
);
