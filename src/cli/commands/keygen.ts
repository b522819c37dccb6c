import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConformError, EXIT } from '../../core/errors.ts';
import { generateManifestKeys } from '../../manifest/sign.ts';
import { parseCommandArgs } from '../args.ts';
import type { CliContext } from '../context.ts';
import { shown, writeAtomically } from './manifest-files.ts';

export { KEYGEN_HELP } from '../command-help.ts';
import { KEYGEN_HELP } from '../command-help.ts';

/** `conform keygen`: a signing key pair for manifests. */
export async function keygenCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values } = parseCommandArgs('keygen', argv, { out: { type: 'string' }, force: { type: 'boolean' }, help: { type: 'boolean' } });
  if (values.help) return ctx.out(KEYGEN_HELP), EXIT.ok;
  const prefix = resolve(ctx.cwd, values.out ?? 'conform-manifest');
  const [privateFile, publicFile] = [`${prefix}.key`, `${prefix}.pub`];
  for (const file of [privateFile, publicFile])
    if (existsSync(file) && !values.force) throw new ConformError('USAGE', `${shown(file, ctx)} exists; pass --force to replace the key pair, or --out another prefix`);
  const keys = generateManifestKeys();
  writeAtomically(privateFile, keys.privateKeyPem, 0o600);
  writeAtomically(publicFile, keys.publicKeyPem);
  ctx.out(`wrote ${shown(privateFile, ctx)} (private, mode 600) and ${shown(publicFile, ctx)} (public); key id ${keys.keyId}`);
  ctx.out(`sign with: CONFORM_MANIFEST_KEY="$(cat ${shown(privateFile, ctx)})" conform manifest sign --key-env CONFORM_MANIFEST_KEY`);
  return EXIT.ok;
}
