import { resolve } from 'node:path';
import { ConformError, EXIT } from '../../core/errors.ts';
import type { GoldenFile, Sample } from '../../core/types.ts';
import { writeGolden } from '../../record/golden-store.ts';
import { createJournal } from '../../record/journal.ts';
import { executeRun } from '../../run/execute-run.ts';
import { parseCommandArgs } from '../args.ts';
import type { CliContext } from '../context.ts';
import { interruptSignal, prepareRun, SELECTION_FLAGS } from '../prepare-run.ts';
import { CONFORM_VERSION } from '../version.ts';

export const RECORD_HELP = `conform record [--backend <name>] [--suite <glob>]... [--config <file>]

Runs the suites on one backend (default: the config's reference, cpu) and writes golden/<suite>.json
with provenance: backend identity, model sha256, conform version and date. Nothing is written
unless every case produced a sample.`;

/** `conform record`: approve a backend's current outputs as golden. */
export async function recordCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values } = parseCommandArgs('record', argv, { ...SELECTION_FLAGS, help: { type: 'boolean' } });
  if (values.help) return ctx.out(RECORD_HELP), EXIT.ok;
  if ((values.backend?.length ?? 0) > 1) throw new ConformError('USAGE', '--backend: golden is recorded on one backend; give it once, for example --backend cpu');
  const prepared = await prepareRun({ ...values, backend: values.backend }, ctx);
  const backend = values.backend?.[0] ? prepared.backends[0]! : prepared.config.backends.find((b) => b.name === prepared.config.reference);
  if (!backend) throw new ConformError('CONFIG_INVALID', `reference backend "${prepared.config.reference}" is not configured`);
  const interrupt = interruptSignal(ctx);
  try {
    const { backends, results } = await executeRun({
      backends: [backend],
      suites: prepared.suites,
      runDir: prepared.runDir,
      modelPath: prepared.modelPath,
      env: ctx.env,
      apiKeys: prepared.apiKeys,
      goldens: new Map(),
      mode: 'record',
      journal: createJournal(prepared.runDir),
      signal: interrupt.signal,
      hooks: { onBackendProgress: (b, line) => ctx.isTTY && ctx.err(`… ${b}: ${line}`) },
    });
    const run = backends[0]!;
    const bad = results.filter((r) => r.status !== 'pass');
    if (run.state !== 'ran' || bad.length > 0 || interrupt.signal.aborted) {
      for (const r of bad.slice(0, 10)) ctx.err(`  ${r.suite}/${r.caseId}: ${r.verdicts[0]?.message}`);
      ctx.err(`conform record: ${backend.name} ${run.state === 'ran' ? `gave no sample for ${bad.length} case(s)` : `${run.state}: ${run.reason}`}; golden left unchanged. Samples: ${prepared.runDir}`);
      return EXIT.infrastructure;
    }
    const goldenDir = resolve(prepared.baseDir, prepared.config.goldenDir);
    for (const suite of prepared.suites) {
      const samples: Record<string, Sample> = {};
      for (const r of results) if (r.suite === suite.name && r.sample) samples[r.caseId] = r.sample;
      const golden: GoldenFile = {
        schemaVersion: 1,
        suite: suite.name,
        provenance: { backend: backend.name, identity: run.identity, modelSha256: run.identity.modelSha256, conformVersion: CONFORM_VERSION, recordedAt: new Date().toISOString() },
        samples,
      };
      ctx.out(`${writeGolden(goldenDir, golden)}: ${Object.keys(samples).length} cases from ${backend.name}`);
    }
    return EXIT.ok;
  } finally {
    interrupt.dispose();
  }
}
