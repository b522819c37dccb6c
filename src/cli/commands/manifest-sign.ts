import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { ConformError, EXIT } from '../../core/errors.ts';
import { keyIdOf, readEd25519Key, sha256Hex, signManifest, verifyManifest } from '../../manifest/sign.ts';
import { parseCommandArgs } from '../args.ts';
import type { CliContext } from '../context.ts';
import { envelopePath, jsonText, manifestPath, missingManifestHint, readJson, shown, writeAtomically } from './manifest-files.ts';

export const MANIFEST_SIGN_HELP = `conform manifest sign --key-env <NAME> [--manifest <file>] [--release vX.Y.Z] [--out <envelope>]

Signs the manifest offline: a DSSE envelope (payloadType application/vnd.in-toto+json) around an
in-toto Statement v1 whose subject is the manifest file and its sha256, signed with Ed25519 over the
DSSE pre-authentication encoding. The PEM private key is read from the environment variable NAME
(never from a file argument, so it stays out of shell history and process lists); "conform keygen"
writes a pair. Writes manifest.dsse.json beside the manifest unless --out says otherwise.`;

export const MANIFEST_VERIFY_HELP = `conform manifest verify --pub <key.pem> [--manifest <file>] [--release vX.Y.Z] [--envelope <file>]

Verifies the manifest against its DSSE envelope and the Ed25519 public key, offline. Exit 0 when the
signature holds and the signed subject digest is the manifest's sha256; exit 1 on any tampering, with
what does not hold: the envelope's form or type, another key, an altered payload, an altered
signature, a manifest changed after signing, or a stale envelope left from another run's manifest.`;

/** `conform manifest sign`: the DSSE envelope of a manifest. */
export async function manifestSignCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values } = parseCommandArgs('manifest sign', argv, { 'key-env': { type: 'string' }, manifest: { type: 'string' }, release: { type: 'string' }, out: { type: 'string' }, config: { type: 'string' }, help: { type: 'boolean' } });
  if (values.help) return ctx.out(MANIFEST_SIGN_HELP), EXIT.ok;
  const name = values['key-env'];
  if (!name) throw new ConformError('USAGE', '--key-env NAME is required to sign: the environment variable holding the PEM private key, for example --key-env CONFORM_MANIFEST_KEY');
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new ConformError('USAGE', `--key-env "${name}" is not an environment variable name, for example --key-env CONFORM_MANIFEST_KEY`);
  const pem = ctx.env[name];
  if (!pem) throw new ConformError('USAGE', `--key-env ${name}: $${name} is not set; put the PEM private key in it, for example export ${name}="$(cat conform-manifest.key)"`);
  const key = readEd25519Key(pem, 'private', `$${name}`);
  const { file } = await manifestPath(values, ctx);
  const bytes = readFileSync(readableFile(file, ctx));
  const envelope = signManifest(basename(file), bytes, key);
  const out = values.out ? resolve(ctx.cwd, values.out) : envelopePath(file);
  writeAtomically(out, jsonText(envelope));
  ctx.out(`signed ${shown(file, ctx)} (sha256 ${sha256Hex(bytes)}) with key ${keyIdOf(key)}: ${shown(out, ctx)}`);
  return EXIT.ok;
}

/** `conform manifest verify`: exit 1 on any tampering with the manifest or its envelope. */
export async function manifestVerifyCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values } = parseCommandArgs('manifest verify', argv, { pub: { type: 'string' }, manifest: { type: 'string' }, release: { type: 'string' }, envelope: { type: 'string' }, config: { type: 'string' }, help: { type: 'boolean' } });
  if (values.help) return ctx.out(MANIFEST_VERIFY_HELP), EXIT.ok;
  if (!values.pub) throw new ConformError('USAGE', '--pub <key.pem> is required to verify: the Ed25519 public key "conform keygen" wrote');
  const pubFile = resolve(ctx.cwd, values.pub);
  const key = readEd25519Key(readFileSync(readableFile(pubFile, ctx), 'utf8'), 'public', values.pub);
  const { file } = await manifestPath(values, ctx);
  const bytes = readFileSync(readableFile(file, ctx));
  const envelopeFile = values.envelope ? resolve(ctx.cwd, values.envelope) : envelopePath(file);
  let envelope: unknown;
  try {
    envelope = readJson(envelopeFile, ctx, 'sign the manifest first with "conform manifest sign"');
  } catch (error) {
    // An envelope that is not even JSON has been tampered with: a verification failure, not a usage error.
    if (error instanceof ConformError && error.code === 'RECORD_INVALID') return ctx.err(`conform manifest verify: FAILED: ${error.message}`), EXIT.conformanceFailure;
    throw error;
  }
  const outcome = verifyManifest(basename(file), bytes, envelope, key);
  if (!outcome.ok) return ctx.err(`conform manifest verify: FAILED: ${shown(file, ctx)}: ${outcome.reason}`), EXIT.conformanceFailure;
  const p = outcome.statement.predicate as { release?: string; runId?: string };
  ctx.out(`verified: ${shown(file, ctx)} (sha256 ${sha256Hex(bytes)}, release ${p.release ?? '?'}, run ${p.runId ?? '?'}) is signed by key ${outcome.keyId}`);
  return EXIT.ok;
}

function readableFile(file: string, ctx: CliContext): string {
  try {
    readFileSync(file);
    return file;
  } catch {
    throw new ConformError('USAGE', `${shown(file, ctx)}: no such file${file.endsWith('manifest.json') ? missingManifestHint(file, ctx) : ''}`);
  }
}
