import { resolve } from 'node:path';
import { ConformError, EXIT } from '../../core/errors.ts';
import type { BackendRun, CaseResult } from '../../core/types.ts';
import { backendAnswered, goldenFileOf, planRecording, type SuiteRecording } from '../../record/golden-recording.ts';
import { goldenPath, writeGolden } from '../../record/golden-store.ts';
import { createJournal } from '../../record/journal.ts';
import { executeRun } from '../../run/execute-run.ts';
import { parseCommandArgs } from '../args.ts';
import type { CliContext } from '../context.ts';
import { interruptSignal, prepareRun, SELECTION_FLAGS } from '../prepare-run.ts';
import { CONFORM_VERSION } from '../version.ts';

export { RECORD_HELP } from '../command-help.ts';
import { RECORD_HELP } from '../command-help.ts';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Why nothing can be written at all, or undefined when the backend answered and golden files can be. */
function nothingToWrite(run: BackendRun, results: CaseResult[], aborted: boolean): string | undefined {
  if (aborted) return 'interrupted';
  // Requirement skips send nothing; only a backend that was asked and never answered is unreachable.
  const first = results.find((r) => r.status === 'error');
  const answered = results.some((r) => backendAnswered(r.sample));
  // The first failed request says why, closer to the cause than the reason the run gave up on the backend.
  if (!answered && first?.sample?.error) return `unreachable: ${first.sample.error.message}`;
  if (run.state !== 'ran') return `${run.state}: ${run.reason ?? 'no reason given'}`;
  if (!first || answered) return undefined;
  return `unreachable: ${first.verdicts[0]?.message ?? 'it answered no request'}`;
}

function printWritten(file: string, recording: SuiteRecording, backend: string, ctx: CliContext): void {
  const unsupported = Object.entries(recording.unsupported);
  ctx.out(`${file}: ${plural(Object.keys(recording.samples).length, 'sample')}, ${unsupported.length} unsupported, from ${backend}`);
  for (const [caseId, reason] of unsupported) ctx.out(`  unsupported ${recording.suite}/${caseId}: ${reason}`);
}

function printKept(file: string, recording: SuiteRecording, ctx: CliContext): void {
  const failed = Object.entries(recording.failed);
  ctx.err(`${file}: left as it was: ${plural(failed.length, 'case')} failed to record`);
  for (const [caseId, reason] of failed) ctx.err(`  failed ${recording.suite}/${caseId}: ${reason}`);
}

/** `conform record`: approve a backend's current outputs as golden, with the cases it cannot serve listed in provenance. */
export async function recordCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values } = parseCommandArgs('record', argv, { ...SELECTION_FLAGS, help: { type: 'boolean' } });
  if (values.help) return ctx.out(RECORD_HELP), EXIT.ok;
  if ((values.backend?.length ?? 0) > 1) throw new ConformError('USAGE', '--backend: golden is recorded on one backend; give it once, for example --backend cpu');
  const prepared = await prepareRun({ ...values, backend: values.backend }, ctx);
  const backend = values.backend?.[0] ? prepared.backends[0]! : prepared.config.backends.find((b) => b.name === prepared.config.reference);
  if (!backend) throw new ConformError('CONFIG_INVALID', `reference backend "${prepared.config.reference}" is not configured`);
  const interrupt = interruptSignal(ctx);
  const journal = createJournal(prepared.runDir);
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
      journal,
      signal: interrupt.signal,
      hooks: { onBackendProgress: (b, line) => ctx.isTTY && ctx.err(`… ${b}: ${line}`) },
    });
    const run = backends[0] ?? { name: backend.name, class: backend.class, state: 'unavailable' as const, reason: 'no case selected', identity: {} };
    const blocked = nothingToWrite(run, results, interrupt.signal.aborted);
    if (blocked) {
      ctx.err(`conform record: ${backend.name} ${blocked}; nothing written, golden left unchanged. Samples: ${prepared.runDir}`);
      return EXIT.infrastructure;
    }
    const goldenDir = resolve(prepared.baseDir, prepared.config.goldenDir);
    const provenance = { backend: backend.name, identity: run.identity, modelSha256: run.identity.modelSha256, conformVersion: CONFORM_VERSION, recordedAt: new Date().toISOString() };
    const recordings = planRecording(prepared.suites, results);
    for (const recording of recordings) {
      if (Object.keys(recording.failed).length > 0) printKept(goldenPath(goldenDir, recording.suite), recording, ctx);
      else printWritten(writeGolden(goldenDir, goldenFileOf(recording, provenance)), recording, backend.name, ctx);
    }
    const kept = recordings.filter((r) => Object.keys(r.failed).length > 0).length;
    if (kept === 0) return EXIT.ok;
    ctx.err(
      `conform record: ${recordings.length - kept} of ${plural(recordings.length, 'golden file')} written from ${backend.name}; ` +
        `${kept} left as ${kept === 1 ? 'it was' : 'they were'} because a case failed to record (rerun; for timeouts raise requestTimeoutMs). Samples: ${prepared.runDir}`,
    );
    return EXIT.infrastructure;
  } finally {
    journal.close();
    interrupt.dispose();
  }
}
