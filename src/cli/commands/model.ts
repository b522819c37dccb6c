import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConformError } from '../../core/errors.ts';
import { buildFixtureModel, FIXTURE_PRECISIONS, fixtureModelSha256, type FixturePrecision } from '../../engine/fixture-model/create-fixture-model.ts';
import { parseCommandArgs } from '../args.ts';
import type { CliContext } from '../context.ts';

export { MODEL_HELP } from '../command-help.ts';
import { MODEL_HELP } from '../command-help.ts';

/** `conform model create`: the fixture model, on demand. */
export async function modelCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('model', argv, { out: { type: 'string' }, weights: { type: 'string', default: 'f32' }, help: { type: 'boolean' } }, true);
  if (values.help || positionals.length === 0) return ctx.out(MODEL_HELP), values.help ? 0 : 2;
  if (positionals[0] !== 'create') throw new ConformError('USAGE', `"${positionals[0]}": unknown subcommand, expected "create"`);
  const weights = values.weights as FixturePrecision;
  if (!FIXTURE_PRECISIONS.includes(weights)) throw new ConformError('USAGE', `--weights "${values.weights}", expected one of ${FIXTURE_PRECISIONS.join(', ')}, for example --weights q8_0`);
  const bytes = buildFixtureModel(weights);
  const out = resolve(ctx.cwd, values.out ?? (weights === 'f32' ? 'conform-tiny.gguf' : `conform-tiny-${weights}.gguf`));
  await writeFile(out, bytes);
  ctx.out(`${out}\nsha256 ${fixtureModelSha256(bytes)} (${bytes.length} bytes)`);
  return 0;
}
