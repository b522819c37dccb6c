import type { Case, Sample } from '../core/types.ts';
import type { Runner } from '../runners/runner.ts';

/** Other seeds a repeated seeded case is also sent with: two, so one chance collision of samples cannot pass off an ignored seed as honoured. */
export const OTHER_SEED_OFFSETS = [1, 2];

function fingerprint(sample: Sample): string {
  return JSON.stringify([sample.text, sample.tokens.map((t) => t.id ?? t.token), sample.toolCalls.map((c) => [c.name, c.arguments])]);
}

/** The parts of an answer that tell two samples apart, as variants and other-seed samples record them. */
function output(sample: Sample): { text: string; tokenIds?: number[]; toolCalls?: string } {
  return {
    text: sample.text,
    tokenIds: sample.tokens.length > 0 && sample.tokens.every((t) => t.id !== undefined) ? sample.tokens.map((t) => t.id!) : undefined,
    toolCalls: sample.toolCalls.length ? JSON.stringify(sample.toolCalls.map((c) => [c.name, c.arguments])) : undefined,
  };
}

/** True for a sampled case with a seed whose checks ask whether the seed is honoured. */
function probesSeed(testCase: Case): boolean {
  return testCase.params.seed !== undefined && (testCase.params.temperature ?? 1) > 0 && testCase.checks.some((c) => c.kind === 'seed');
}

/**
 * Sends the same request `count` times, one after another or all at once, and folds the answers into
 * distinct variants. A seeded case with the `seed` check is then also sent, one at a time, with other seeds
 * (recorded as `otherSeeds`). The first answer is the sample; failures win, so a flaky backend shows.
 */
export async function runRepeated(runner: Runner, testCase: Case, signal?: AbortSignal): Promise<Sample> {
  const { count, mode } = testCase.repeat!;
  const single = { ...testCase, repeat: undefined };
  const samples: Sample[] = [];
  if (mode === 'concurrent') samples.push(...(await Promise.all(Array.from({ length: count }, () => runner.run(single, { signal })))));
  else for (let i = 0; i < count && !signal?.aborted; i++) samples.push(await runner.run(single, { signal }));
  const others: Array<{ seed: number; sample: Sample }> = [];
  if (probesSeed(testCase))
    for (const offset of OTHER_SEED_OFFSETS) {
      if (signal?.aborted) break;
      const seed = testCase.params.seed! + offset;
      others.push({ seed, sample: await runner.run({ ...single, params: { ...single.params, seed } }, { signal }) });
    }
  const failed = [...samples, ...others.map((o) => o.sample)].find((s) => s.kind !== 'ok');
  if (failed) return failed;
  const variants = new Map<string, NonNullable<Sample['variants']>[number]>();
  for (const sample of samples) {
    const key = fingerprint(sample);
    const known = variants.get(key);
    if (known) known.count++;
    else variants.set(key, { ...output(sample), count: 1 });
  }
  const retries = [...samples, ...others.map((o) => o.sample)].reduce((n, s) => n + s.retries, 0);
  return {
    ...samples[0]!,
    retries,
    variants: [...variants.values()],
    ...(others.length > 0 && { otherSeeds: others.map(({ seed, sample }) => ({ seed, ...output(sample) })) }),
  };
}
