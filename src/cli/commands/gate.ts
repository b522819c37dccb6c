import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { execa } from 'execa';
import { loadConfig, type LoadedConfig } from '../../config/load-config.ts';
import { ConformError, EXIT } from '../../core/errors.ts';
import { DEFAULT_GATE_POLICY, evaluateGate, validateGatePolicy, type Approval, type Baseline, type GateDecision, type GatePolicy, type LatencyComparison } from '../../core/gate.ts';
import { parseCommandArgs } from '../args.ts';
import type { CliContext } from '../context.ts';
import { readRunSummary, runFolderOrNewest } from '../../record/run-folder.ts';
import { readPolicyFile } from '../policy-file.ts';

export { GATE_HELP } from '../command-help.ts';
import { GATE_HELP } from '../command-help.ts';

export const DEFAULT_BASELINE = 'baselines/baseline.json';

/** One line of git's output, or undefined when git is missing, fails or says nothing. */
export async function gitLine(args: string[], ctx: CliContext): Promise<string | undefined> {
  const result = await execa('git', args, { cwd: ctx.cwd, env: ctx.env, extendEnv: false, reject: false, timeout: 10_000, stdin: 'ignore' });
  const line = result.exitCode === 0 && typeof result.stdout === 'string' ? result.stdout.trim().split('\n')[0]?.trim() : undefined;
  return line || undefined;
}

/** Reads a gate policy file (JSON or YAML), naming it when it is missing or wrong. */
export const readPolicy = (path: string, cwd: string): GatePolicy => readPolicyFile(path, cwd, validateGatePolicy);

function latencyLine(c: LatencyComparison): string {
  const what = `${c.backend} ${c.metric === 'e2e' ? 'end-to-end' : 'TTFT'}`;
  if (c.outcome === 'not-enough-samples') return `${what}: not compared (${c.currentCount} vs ${c.baselineCount} samples)`;
  const change = c.relativeIncrease === Infinity ? '+∞' : `${c.relativeIncrease! >= 0 ? '+' : ''}${(c.relativeIncrease! * 100).toFixed(1)}`;
  return `${what}: p90 ${c.baselineP90!.toFixed(1)} → ${c.currentP90!.toFixed(1)} ms (${change} %), p=${c.p!.toPrecision(3)} over ${c.currentCount} vs ${c.baselineCount} samples: ${c.outcome}`;
}

function printDecision(decision: GateDecision, currentId: string, baseline: Baseline, baselinePath: string, policy: GatePolicy, ctx: CliContext): void {
  const a = baseline.approval;
  ctx.out(`conform gate: run ${currentId} against baseline ${baseline.runId} (${baselinePath}${a ? `, approved by ${a.by} on ${a.at.slice(0, 10)}: "${a.reason}"` : ''})`);
  const width = Math.max(0, ...decision.reasons.map((r) => r.kind.length));
  for (const r of decision.reasons) ctx.out(`  ${r.severity === 'failure' ? 'FAIL' : 'info'}  ${r.kind.padEnd(width)}  ${r.message}`);
  const compared = decision.latency.filter((c) => c.outcome === 'ok');
  if (compared.length) {
    const p = { ...DEFAULT_GATE_POLICY, ...policy };
    ctx.out(`  latency within policy (α ${p.alpha}, p90 limit +${(p.p90Increase * 100).toFixed(0)} %, at least ${p.minSamples} samples):`);
    for (const c of compared) ctx.out(`    ${latencyLine(c)}`);
  }
  const within = decision.telemetry?.filter((c) => c.outcome === 'ok') ?? [];
  if (within.length) {
    ctx.out('  cost and energy within policy:');
    for (const c of within) ctx.out(`    ${c.message}`);
  }
  const failures = decision.reasons.filter((r) => r.severity === 'failure').length;
  const expected = decision.reasons.filter((r) => r.kind === 'expected-failure').length;
  const note = expected ? ` (${expected} expected failure${expected === 1 ? '' : 's'} under caveats)` : '';
  ctx.out(decision.pass ? `Gate passed: no regression against the baseline${note}.` : `Gate FAILED: ${failures} regression${failures === 1 ? '' : 's'} against the baseline${note}.`);
}

/** `conform gate`: the release decision, or (with --approve) a new baseline. */
export async function gateCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'gate',
    argv,
    {
      baseline: { type: 'string' },
      policy: { type: 'string' },
      approve: { type: 'boolean' },
      reason: { type: 'string' },
      by: { type: 'string' },
      'baseline-out': { type: 'string' },
      config: { type: 'string' },
      help: { type: 'boolean' },
    },
    true,
  );
  if (values.help) return ctx.out(GATE_HELP), EXIT.ok;
  if (positionals.length > 1) throw new ConformError('USAGE', `one run folder at most, got ${positionals.length}; merge shards first with "conform merge". See "conform gate --help".`);
  let loaded: LoadedConfig | undefined;
  const project = async () => (loaded ??= await loadConfig(ctx.cwd, values.config));

  if (values.approve) {
    if (values.baseline !== undefined || values.policy !== undefined)
      throw new ConformError('USAGE', '--approve writes the baseline to --baseline-out; --baseline and --policy are for comparing. See "conform gate --help".');
    const reason = values.reason?.trim();
    if (!reason) throw new ConformError('USAGE', '--approve needs --reason "<why this run is the new baseline>"');
    const run = await runFolderOrNewest(positionals[0], ctx.cwd, values.config);
    const by = values.by?.trim() || (await gitLine(['config', 'user.name'], ctx)) || ctx.env.USER?.trim();
    if (!by) throw new ConformError('USAGE', '--approve: no --by, no git user.name and no $USER; say who approves, for example --by alice');
    const out = values['baseline-out'] ? resolve(ctx.cwd, values['baseline-out']) : resolve((await project()).baseDir, DEFAULT_BASELINE);
    const { approval: _previous, ...summary } = run.summary as Baseline;
    const approval: Approval = { by, at: new Date().toISOString(), reason, runId: summary.runId };
    const baseline: Baseline = { ...summary, approval };
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(baseline, null, 2)}\n`);
    const t = summary.totals;
    ctx.out(`${relative(ctx.cwd, out) || out}: run ${summary.runId} approved as the baseline by ${by}: "${reason}"`);
    if (t.fail + t.error > 0) ctx.out(`note: it holds ${t.fail} failing and ${t.error} erroring case(s); the gate treats them as known until they pass.`);
    return EXIT.ok;
  }

  if (values.reason !== undefined || values.by !== undefined || values['baseline-out'] !== undefined)
    throw new ConformError('USAGE', '--reason, --by and --baseline-out go with --approve. See "conform gate --help".');
  const policy = values.policy ? readPolicy(values.policy, ctx.cwd) : {};
  let baselinePath = values.baseline;
  if (!baselinePath) {
    const file = resolve((await project()).baseDir, DEFAULT_BASELINE);
    if (!existsSync(file)) throw new ConformError('USAGE', `no baseline at ${relative(ctx.cwd, file) || file}: pass --baseline <summary.json or run folder>, or approve one with "conform gate --approve --reason ..."`);
    baselinePath = file;
  }
  const baseline = readRunSummary(baselinePath, ctx.cwd);
  const current = await runFolderOrNewest(positionals[0], ctx.cwd, values.config);
  for (const run of [baseline, current]) {
    // A summary.json copied away from its run folder has verdicts but no samples: say so, rather than let
    // "not enough samples" be the only sign that latency went unjudged.
    const missing = run.summary.results.filter((r) => r.sampleLine !== undefined && !r.sample).length;
    if (missing > 0)
      ctx.out(`note: ${relative(ctx.cwd, run.file) || run.file}: ${missing} result(s) keep their samples in samples.jsonl, which is not beside it, so their latency is not compared; give the run folder, or approve it with "conform gate --approve" (the baseline file then carries its samples)`);
  }
  const decision = evaluateGate(current.summary, baseline.summary, policy, new Date());
  printDecision(decision, current.summary.runId, baseline.summary as Baseline, relative(ctx.cwd, baseline.file) || baseline.file, policy, ctx);
  return decision.pass ? EXIT.ok : EXIT.conformanceFailure;
}
