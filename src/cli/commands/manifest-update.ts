import { join, resolve } from 'node:path';
import { ConformError, EXIT } from '../../core/errors.ts';
import { decidePromotions, variantOfPlan } from '../../manifest/promote.ts';
import type { PromotionMetric, ReleaseManifest } from '../../manifest/types.ts';
import { intFlag, parseCommandArgs } from '../args.ts';
import type { CliContext } from '../context.ts';
import { jsonText, manifestPath, MANIFESTS_DIR, readHistory, readManifest, shown, writeAtomically } from './manifest-files.ts';

export const MANIFEST_UPDATE_HELP = `conform manifest update --stable <N> [--metric ttft-p50|tokens-per-second] [--alpha 0.01] [--min-samples 8]
                        [--manifest <file>] [--release vX.Y.Z] [--history <file>]

The kernel feedback loop's decision. For each backend, a variant (<backend>@<variant>, from
"conform run --variants") becomes the recommended plan in the manifest only when, in each of the last
N runs of the plan history, it passed every suite AND beat the current plan on the metric (default
ttft-p50) by a significant margin: the gate's one-sided Wilcoxon signed-rank test over the cases both
answered, p < alpha, with a median ratio in the winning direction, over at least min-samples pairs.
Writes the manifest (sign it again afterwards) and prints why, plan by plan and run by run.`;

const METRICS: PromotionMetric[] = ['ttft-p50', 'tokens-per-second'];

/** `conform manifest update --stable N`: promote a variant that won the last N runs, and say why. */
export async function manifestUpdateCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values } = parseCommandArgs('manifest update', argv, {
    stable: { type: 'string' },
    metric: { type: 'string', default: 'ttft-p50' },
    alpha: { type: 'string' },
    'min-samples': { type: 'string' },
    manifest: { type: 'string' },
    release: { type: 'string' },
    history: { type: 'string' },
    config: { type: 'string' },
    help: { type: 'boolean' },
  });
  if (values.help) return ctx.out(MANIFEST_UPDATE_HELP), EXIT.ok;
  if (values.stable === undefined) throw new ConformError('USAGE', '--stable N is required: the runs in a row a variant must win, for example --stable 3');
  const stable = intFlag('stable', values.stable, 3, 1);
  const metric = values.metric as PromotionMetric;
  if (!METRICS.includes(metric)) throw new ConformError('USAGE', `--metric "${values.metric}", expected one of ${METRICS.join(', ')}, for example --metric tokens-per-second`);
  const alpha = values.alpha === undefined ? undefined : Number(values.alpha);
  if (alpha !== undefined && !(alpha > 0 && alpha < 1)) throw new ConformError('USAGE', `--alpha "${values.alpha}", expected a number between 0 and 1, for example --alpha 0.01`);
  const minSamples = values['min-samples'] === undefined ? undefined : intFlag('min-samples', values['min-samples'], 8, 2);

  const { file, loaded } = await manifestPath(values, ctx);
  const manifest = readManifest(file, ctx);
  const historyFile = values.history ? resolve(ctx.cwd, values.history) : join(loaded.baseDir, MANIFESTS_DIR, 'history.json');
  const history = readHistory(historyFile, ctx);
  if (!history) throw new ConformError('USAGE', `${shown(historyFile, ctx)}: no plan history yet; "conform manifest" adds each run of "conform run --variants" to it`);

  const current: Record<string, string> = {};
  for (const b of manifest.backends) if (b.recommendedPlan && !b.variantOf) current[b.name] = `${b.name}@${b.recommendedPlan.variant}`;
  const decisions = decidePromotions(history, current, { stable, metric, ...(alpha !== undefined && { alpha }), ...(minSamples !== undefined && { minSamples }) });
  const next: ReleaseManifest = structuredClone(manifest);
  let changed = 0;
  for (const decision of decisions) {
    ctx.out(decision.reason);
    for (const v of decision.variants) for (const r of v.runs) ctx.out(`  ${v.plan} in run ${r.runId}: ${r.why}`);
    if (!decision.promoted) continue;
    const entry = next.backends.find((b) => b.name === decision.backend);
    if (!entry) {
      ctx.out(`  ${decision.backend} is not in ${shown(file, ctx)}; nothing written for it`);
      continue;
    }
    const variant = variantOfPlan(decision.promoted);
    changed++;
    if (variant === null) delete entry.recommendedPlan;
    else {
      const launch = next.backends.find((b) => b.name === decision.promoted)?.kernelPlan.launchArgs ?? [];
      entry.recommendedPlan = { variant, launchArgs: launch, since: history.runs[0]!.runId, metric, reason: decision.reason };
    }
  }
  if (changed === 0) return ctx.out(`no plan changes; ${shown(file, ctx)} left as it was`), EXIT.ok;
  writeAtomically(file, jsonText(next));
  ctx.out(`wrote ${shown(file, ctx)} with ${changed} new recommended plan${changed === 1 ? '' : 's'}; sign it again with "conform manifest sign"`);
  return EXIT.ok;
}
