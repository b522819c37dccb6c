import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { execa } from 'execa';
import { PACKAGE_ROOT } from '../../config/package-files.ts';
import { ConformError, EXIT } from '../../core/errors.ts';
import { minOf } from '../../core/statistics.ts';
import type { BackendRun, GoldenFile } from '../../core/types.ts';
import { expandVariants } from '../../core/variants.ts';
import { buildManifest } from '../../manifest/build-manifest.ts';
import type { ProbedBackend } from '../../manifest/features.ts';
import { addToHistory, historyRunOf } from '../../manifest/history.ts';
import { candidateModels, weightsBySha256 } from '../../manifest/read-weights.ts';
import { createTestBackendOpsSource, testBackendOpsIn } from '../../manifest/run-test-backend-ops.ts';
import type { Absent, BackendManifest, OpCoverage, OpCoverageDevice, ReleaseManifest, WeightPrecision } from '../../manifest/types.ts';
import { readGolden, readSuiteGolden } from '../../record/golden-store.ts';
import { runFolderOrNewest } from '../../record/run-folder.ts';
import { loadSuites } from '../../suites/load-suites.ts';
import { parseCommandArgs } from '../args.ts';
import type { CliContext } from '../context.ts';
import { readPolicy } from './gate.ts';
import { jsonText, manifestPath, MANIFESTS_DIR, readHistory, readJson, readManifest, shown, writeAtomically } from './manifest-files.ts';

export { MANIFEST_HELP } from '../command-help.ts';
import { MANIFEST_HELP } from '../command-help.ts';

type Sub = (argv: string[], ctx: CliContext) => Promise<number>;
const SUBCOMMANDS: Record<string, () => Promise<Sub>> = {
  sign: async () => (await import('./manifest-sign.ts')).manifestSignCommand,
  verify: async () => (await import('./manifest-sign.ts')).manifestVerifyCommand,
  update: async () => (await import('./manifest-update.ts')).manifestUpdateCommand,
};

/** `conform manifest`: build a release manifest, or sign, verify or update one. */
export async function manifestCommand(argv: string[], ctx: CliContext): Promise<number> {
  const sub = argv[0] !== undefined && Object.hasOwn(SUBCOMMANDS, argv[0]) ? SUBCOMMANDS[argv[0]] : undefined;
  if (sub) return (await sub())(argv.slice(1), ctx);
  const { values, positionals } = parseCommandArgs(
    'manifest',
    argv,
    {
      release: { type: 'string' },
      out: { type: 'string' },
      'op-coverage': { type: 'boolean' },
      'test-backend-ops': { type: 'string' },
      features: { type: 'string' },
      policy: { type: 'string' },
      model: { type: 'string', multiple: true },
      history: { type: 'string' },
      config: { type: 'string' },
      help: { type: 'boolean' },
    },
    true,
  );
  if (values.help) return ctx.out(MANIFEST_HELP), EXIT.ok;
  if (positionals.length > 1) throw new ConformError('USAGE', `conform manifest: one run folder at most, got ${positionals.join(' ')}; merge them first with "conform merge", or see "conform manifest --help"`);
  const { file: out, loaded, release } = await manifestPath({ manifest: values.out, release: values.release, config: values.config }, ctx);
  const { config, baseDir } = loaded;
  const run = await runFolderOrNewest(positionals[0], ctx.cwd, values.config);
  const summary = run.summary;

  const suites = loadSuites(config.suites, baseDir).filter((s) => summary.suites.includes(s.name));
  const goldenDir = resolve(baseDir, config.goldenDir);
  const goldens = new Map<string, GoldenFile | undefined>(summary.suites.map((name) => {
    const suite = suites.find((s) => s.name === name);
    return [name, suite ? readSuiteGolden(goldenDir, suite) : readGolden(goldenDir, name)];
  }));

  const shas = [...new Set(summary.backends.map((b) => b.identity.modelSha256).filter((s): s is string => Boolean(s)))];
  const modelFiles = [...(values.model ?? []).map((m) => resolve(ctx.cwd, m)), ...(config.modelPath && config.modelPath !== '{fixture}' ? [resolve(baseDir, config.modelPath)] : [])];
  const bySha = weightsBySha256(shas, candidateModels(modelFiles, [resolve(baseDir, config.cacheDir), ctx.cacheDir]), ctx.cwd);
  const weights: Record<string, WeightPrecision | Absent> = {};
  for (const b of summary.backends) if (b.identity.modelSha256 && bySha.has(b.identity.modelSha256)) weights[b.name] = bySha.get(b.identity.modelSha256)!;

  const opCoverage = values['op-coverage'] ? await collectOpCoverage(summary.backends, values['test-backend-ops'], ctx) : {};
  const probes = values.features ? readProbes(values.features, ctx) : undefined;
  const previous = existsSync(out) ? readManifest(out, ctx) : undefined;
  const manifest = buildManifest({
    summary,
    release,
    backends: expandVariants(config.backends),
    reference: config.reference,
    suites,
    goldens,
    weights,
    opCoverage,
    probes,
    caveats: values.policy ? (readPolicy(values.policy, ctx.cwd).caveats ?? []) : [],
    previous: previous?.release === release ? previous : undefined,
  });
  writeAtomically(out, jsonText(manifest));

  const historyFile = values.history ? resolve(ctx.cwd, values.history) : join(baseDir, MANIFESTS_DIR, 'history.json');
  const history = addToHistory(readHistory(historyFile, ctx), historyRunOf(summary));
  writeAtomically(historyFile, jsonText(history));

  ctx.out(`manifest of run ${summary.runId}, release ${release}: ${shown(out, ctx)} (plan history: ${shown(historyFile, ctx)}, ${history.runs.length} run${history.runs.length === 1 ? '' : 's'})`);
  for (const line of describeManifest(manifest)) ctx.out(line);
  return EXIT.ok;
}

function readProbes(path: string, ctx: CliContext): ProbedBackend[] {
  const raw = readJson(resolve(ctx.cwd, path), ctx, 'the output of "conform backends --json"');
  if (!Array.isArray(raw) || raw.some((row) => !row || typeof row !== 'object' || typeof (row as ProbedBackend).name !== 'string'))
    throw new ConformError('USAGE', `--features ${path}: expected the JSON list "conform backends --json" prints`);
  return raw as ProbedBackend[];
}

/** node-llama-cpp's libggml-vulkan.so, found through the package's entry (its exports allow nothing else). */
function vulkanLibrary(): string | undefined {
  try {
    const entry = createRequire(import.meta.url).resolve('@node-llama-cpp/linux-x64-vulkan');
    const file = join(dirname(dirname(entry)), 'bins', 'linux-x64-vulkan', 'libggml-vulkan.so');
    return existsSync(file) ? file : undefined;
  } catch {
    return undefined;
  }
}

/** The test-backend-ops that scripts/build-peer.sh built, when this is a clone of conform and it is built. */
async function builtTestBackendOps(ctx: CliContext): Promise<string | undefined> {
  const script = join(PACKAGE_ROOT, 'scripts', 'build-peer.sh');
  if (!existsSync(script)) return undefined;
  const result = await execa(script, ['--print'], { env: ctx.env, reject: false, timeout: 30_000, stdin: 'ignore' });
  return result.exitCode === 0 ? testBackendOpsIn(String(result.stdout).trim().split('\n').pop()) : undefined;
}

async function collectOpCoverage(backends: BackendRun[], binaryFlag: string | undefined, ctx: CliContext): Promise<Record<string, OpCoverage | Absent>> {
  const binary = binaryFlag ? resolve(ctx.cwd, binaryFlag) : await builtTestBackendOps(ctx);
  const source = createTestBackendOpsSource({ binary, vulkanLibrary: vulkanLibrary(), env: ctx.env, cacheDir: ctx.cacheDir, onRun: (line) => ctx.err(`… op coverage ${line}`) });
  const byDevice = new Map<OpCoverageDevice, Promise<OpCoverage | Absent>>();
  const out: Record<string, OpCoverage | Absent> = {};
  for (const b of backends) {
    const engine = b.identity.engine ?? '';
    const device: OpCoverageDevice | undefined = b.identity.gpu === 'cpu' ? 'cpu' : b.identity.gpu === 'vulkan' ? 'vulkan' : undefined;
    if (!engine.startsWith(source.family)) out[b.name] = { absent: engine ? `no op-coverage tool for ${engine}` : 'the backend reported no engine' };
    else if (!device) out[b.name] = { absent: `test-backend-ops runs here for cpu and vulkan, not for ${b.identity.gpu ?? 'an unknown device'}` };
    else {
      // Variants of one device share its op coverage: the ops do not depend on the launch flags.
      if (!byDevice.has(device)) byDevice.set(device, source.coverage(device));
      out[b.name] = await byDevice.get(device)!;
    }
  }
  return out;
}

const figure = (x: number | null | undefined) => (x === null || x === undefined ? '—' : x === 0 ? '0' : Math.abs(x) < 1e-3 ? x.toExponential(2) : x.toPrecision(3));

/** A few lines per backend: precision, plan, verdicts, drift and op coverage. */
export function describeManifest(manifest: ReleaseManifest): string[] {
  const lines: string[] = [];
  for (const b of manifest.backends) {
    const w = 'absent' in b.precision.weights ? `weights ? (${b.precision.weights.absent})` : `weights ${b.precision.weights.fileType}`;
    const kv = 'absent' in b.precision.kvCache ? 'KV ?' : `KV ${b.precision.kvCache.key}/${b.precision.kvCache.value}`;
    const p = b.kernelPlan;
    const plan = `flash attention ${p.flashAttention === null ? '?' : p.flashAttention ? 'on' : 'off'}, batch ${p.batchSize ?? '?'}, threads ${p.threads ?? '?'}`;
    const t = b.verdicts.totals;
    lines.push(`  ${b.name} (${b.class}, ${b.state}): ${w}, ${kv}; ${plan}; ${t.pass} passed, ${t.fail} failed, ${t.error} errors, ${t.skip} skipped`);
    lines.push(`    drift: ${driftLine(b)}`);
    if (!('absent' in b.opCoverage)) lines.push(`    op coverage: ${opLine(b.opCoverage.support)}; ${opLine(b.opCoverage.test)}`);
    if (b.recommendedPlan) lines.push(`    recommended plan: ${b.recommendedPlan.variant} (since ${b.recommendedPlan.since})`);
  }
  return lines;
}

function driftLine(b: BackendManifest): string {
  if ('absent' in b.drift) return b.drift.absent;
  const d = b.drift;
  const where = d.divergences.length ? ` (first at token ${minOf(d.divergences.map((x) => x.index))}, median ${d.divergenceIndex.p50}; gap max ${figure(d.divergenceGap.max)} nats)` : '';
  return `${d.divergences.length} of ${d.comparedCases} cases part from golden${where}; KLD mean ${figure(d.kld.mean)}, max ${figure(d.kld.max)}; |Δlogprob| p99 ${figure(d.absLogprobDelta.p99)}, max ${figure(d.absLogprobDelta.max)}`;
}

function opLine(mode: OpCoverage['support']): string {
  if ('absent' in mode) return `absent (${mode.absent})`;
  const broken = Object.keys(mode.incomplete).length ? `; without a full result: ${Object.keys(mode.incomplete).join(', ')}` : '';
  return mode.mode === 'support'
    ? `support ${mode.ok}/${mode.cases} cases, ${mode.opsFullyCovered}/${mode.ops} ops fully supported${broken}`
    : `test ${mode.ok} passed, ${mode.failed} failed, ${mode.unsupported} unsupported of ${mode.cases} cases over ${mode.ops} ops${broken}`;
}
