import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConformError } from '../../core/errors.ts';
import { buildFixtureModel, fixtureModelSha256 } from '../../engine/fixture-model/create-fixture-model.ts';
import { parseCommandArgs } from '../args.ts';
import type { CliContext } from '../context.ts';

export const MODEL_HELP = `conform model create [--out <path>]

Writes the tiny fixture GGUF (llama architecture, byte-fallback vocabulary, ChatML template,
seeded weights). Same bytes every time; prints its sha256. Default --out: conform-tiny.gguf`;

/** `conform model create`: the fixture model, on demand. */
export async function modelCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('model', argv, { out: { type: 'string' }, help: { type: 'boolean' } }, true);
  if (values.help || positionals.length === 0) return ctx.out(MODEL_HELP), values.help ? 0 : 2;
  if (positionals[0] !== 'create') throw new ConformError('USAGE', `"${positionals[0]}": unknown subcommand, expected "create"`);
  const bytes = buildFixtureModel();
  const out = resolve(ctx.cwd, values.out ?? 'conform-tiny.gguf');
  await writeFile(out, bytes);
  ctx.out(`${out}\nsha256 ${fixtureModelSha256(bytes)} (${bytes.length} bytes)`);
  return 0;
}
