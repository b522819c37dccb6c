import type { Case, Sample } from '../core/types.ts';
import type { Runner } from '../runners/runner.ts';

function fingerprint(sample: Sample): string {
  return JSON.stringify([sample.text, sample.tokens.map((t) => t.id ?? t.token), sample.toolCalls.map((c) => [c.name, c.arguments])]);
}

/**
 * Sends the same request `count` times, one after another or all at once, and folds the answers
 * into distinct variants. The first answer is the sample; failures win, so a flaky backend shows.
 */
export async function runRepeated(runner: Runner, testCase: Case, signal?: AbortSignal): Promise<Sample> {
  const { count, mode } = testCase.repeat!;
  const single = { ...testCase, repeat: undefined };
  const samples: Sample[] = [];
  if (mode === 'concurrent') samples.push(...(await Promise.all(Array.from({ length: count }, () => runner.run(single, { signal })))));
  else for (let i = 0; i < count && !signal?.aborted; i++) samples.push(await runner.run(single, { signal }));
  const failed = samples.find((s) => s.kind !== 'ok');
  if (failed) return failed;
  const variants = new Map<string, NonNullable<Sample['variants']>[number]>();
  for (const sample of samples) {
    const key = fingerprint(sample);
    const known = variants.get(key);
    if (known) known.count++;
    else
      variants.set(key, {
        text: sample.text,
        tokenIds: sample.tokens.every((t) => t.id !== undefined) ? sample.tokens.map((t) => t.id!) : undefined,
        toolCalls: sample.toolCalls.length ? JSON.stringify(sample.toolCalls.map((c) => [c.name, c.arguments])) : undefined,
        count: 1,
      });
  }
  return { ...samples[0]!, retries: samples.reduce((n, s) => n + s.retries, 0), variants: [...variants.values()] };
}
