// Offline signing of a manifest: an in-toto Statement v1 naming the manifest file by its sha256, in a
// DSSE envelope signed with Ed25519 over DSSE's pre-authentication encoding, all through node:crypto.
// npm provenance and GitHub's attest action emit the same shape, so release engineers' tools read it.

import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { ConformError } from '../core/errors.ts';
import type { DsseEnvelope, InTotoStatement } from './types.ts';

export const IN_TOTO_STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
/** conform's predicate: "this file is conform's backend manifest of one release, derived from one run". */
export const MANIFEST_PREDICATE_TYPE = 'https://conform.dev/attestations/backend-manifest/v1';

/** DSSE's pre-authentication encoding: "DSSEv1" SP len(type) SP type SP len(body) SP body, lengths in bytes. */
export function preAuthEncoding(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), Buffer.from(payload)]);
}

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** What the predicate says about the manifest, read from the manifest itself so a stale envelope can be told from an altered file. */
function predicateOf(manifest: Uint8Array): Record<string, unknown> {
  try {
    const m = JSON.parse(Buffer.from(manifest).toString('utf8')) as Record<string, unknown>;
    const backends = Array.isArray(m.backends) ? (m.backends as Array<{ name?: unknown }>).map((b) => b.name) : [];
    return { manifestSchemaVersion: m.schemaVersion, release: m.release, runId: m.runId, measuredAt: m.measuredAt, backends };
  } catch {
    return {};
  }
}

/** The statement conform signs for a manifest file: deterministic, so verify can rebuild it. */
export function manifestStatement(name: string, manifest: Uint8Array): InTotoStatement {
  return { _type: IN_TOTO_STATEMENT_TYPE, subject: [{ name, digest: { sha256: sha256Hex(manifest) } }], predicateType: MANIFEST_PREDICATE_TYPE, predicate: predicateOf(manifest) };
}

/** A key's id: the sha256 of its public key's SPKI DER, the way sigstore and DSSE tools name keys. */
export function keyIdOf(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return sha256Hex(publicKey.export({ type: 'spki', format: 'der' }));
}

/** Reads an Ed25519 key from PEM text, naming where it came from when it is not one. */
export function readEd25519Key(pem: string, kind: 'private' | 'public', source: string): KeyObject {
  let key: KeyObject;
  try {
    key = kind === 'private' ? createPrivateKey(pem) : createPublicKey(pem);
  } catch (error) {
    throw new ConformError('USAGE', `${source}: not a PEM ${kind} key (${(error as Error).message.split('\n')[0]}); "conform keygen" writes a pair`, { cause: error });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new ConformError('USAGE', `${source}: a ${key.asymmetricKeyType} key; manifests are signed with Ed25519 ("conform keygen" writes a pair)`);
  return key;
}

/** A fresh Ed25519 pair as PEM: PKCS #8 for the private key, SPKI for the public one. */
export function generateManifestKeys(): { privateKeyPem: string; publicKeyPem: string; keyId: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: keyIdOf(publicKey),
  };
}

/** Signs a manifest file's bytes: the envelope holds the statement naming it by sha256. */
export function signManifest(name: string, manifest: Uint8Array, privateKey: KeyObject): DsseEnvelope {
  const payload = Buffer.from(JSON.stringify(manifestStatement(name, manifest)), 'utf8');
  const sig = sign(null, preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, payload), privateKey);
  return { payloadType: IN_TOTO_PAYLOAD_TYPE, payload: payload.toString('base64'), signatures: [{ keyid: keyIdOf(privateKey), sig: sig.toString('base64') }] };
}

export type VerifyOutcome = { ok: true; statement: InTotoStatement; keyId: string } | { ok: false; reason: string };

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The envelope's fields, or why it is not a DSSE envelope. */
function envelopeProblem(raw: unknown): string | undefined {
  const e = raw as Partial<DsseEnvelope> | null;
  if (!e || typeof e !== 'object' || Array.isArray(e)) return 'the envelope is not a JSON object';
  if (typeof e.payloadType !== 'string') return 'the envelope has no payloadType';
  if (typeof e.payload !== 'string' || !BASE64.test(e.payload)) return 'the envelope payload is not base64';
  if (!Array.isArray(e.signatures) || e.signatures.length === 0) return 'the envelope has no signatures';
  for (const [i, s] of e.signatures.entries())
    if (!s || typeof s.sig !== 'string' || !BASE64.test(s.sig) || (s.keyid !== undefined && typeof s.keyid !== 'string')) return `signatures[${i}] is not { keyid, sig } with a base64 sig`;
  return undefined;
}

/**
 * Verifies an envelope against the manifest file and a public key, and on failure says which part
 * does not hold: the envelope's shape or type, the key, the payload, the signature, the manifest
 * file, or a subject digest left over from another run's manifest.
 */
export function verifyManifest(name: string, manifest: Uint8Array, envelope: unknown, publicKey: KeyObject): VerifyOutcome {
  const shape = envelopeProblem(envelope);
  if (shape) return { ok: false, reason: shape };
  const e = envelope as DsseEnvelope;
  if (e.payloadType !== IN_TOTO_PAYLOAD_TYPE) return { ok: false, reason: `payloadType is "${e.payloadType}", expected "${IN_TOTO_PAYLOAD_TYPE}"` };
  const payload = Buffer.from(e.payload, 'base64');
  const keyId = keyIdOf(publicKey);
  const pae = preAuthEncoding(e.payloadType, payload);
  const good = e.signatures.find((s) => verify(null, pae, publicKey, Buffer.from(s.sig, 'base64')));
  if (!good) {
    if (!e.signatures.some((s) => s.keyid === keyId))
      return { ok: false, reason: `not signed by this key: the envelope names key ${e.signatures.map((s) => (s.keyid ?? '?').slice(0, 16)).join(', ')}…, the public key is ${keyId.slice(0, 16)}…` };
    // The key is the right one, so either the payload or the signature changed; the payload conform
    // signs is rebuilt from the manifest, so an intact payload means the signature was altered.
    const expected = Buffer.from(JSON.stringify(manifestStatement(name, manifest)), 'utf8');
    return payload.equals(expected)
      ? { ok: false, reason: 'the signature does not verify although the payload is intact: the signature was altered' }
      : { ok: false, reason: 'the signature does not verify over the payload: the payload was altered after signing' };
  }
  let statement: InTotoStatement;
  try {
    statement = JSON.parse(payload.toString('utf8')) as InTotoStatement;
  } catch {
    return { ok: false, reason: 'the signed payload is not JSON, so it is not an in-toto Statement' };
  }
  if (statement?._type !== IN_TOTO_STATEMENT_TYPE) return { ok: false, reason: `the statement's _type is ${JSON.stringify(statement?._type)}, expected "${IN_TOTO_STATEMENT_TYPE}"` };
  if (statement.predicateType !== MANIFEST_PREDICATE_TYPE) return { ok: false, reason: `predicateType is ${JSON.stringify(statement.predicateType)}, expected "${MANIFEST_PREDICATE_TYPE}"` };
  const subject = Array.isArray(statement.subject) ? statement.subject.find((s) => s?.name === name) : undefined;
  if (!subject) return { ok: false, reason: `the statement has no subject named ${name} (it names ${(statement.subject ?? []).map((s) => s?.name).join(', ') || 'none'})` };
  const actual = sha256Hex(manifest);
  if (subject.digest?.sha256 !== actual) {
    const signedRun = statement.predicate?.runId;
    const fileRun = predicateOf(manifest).runId;
    if (signedRun !== undefined && fileRun !== undefined && signedRun !== fileRun)
      return { ok: false, reason: `stale subject digest: the envelope signs the manifest of run ${String(signedRun)} (sha256 ${String(subject.digest?.sha256).slice(0, 16)}…), but ${name} is run ${String(fileRun)}'s (sha256 ${actual.slice(0, 16)}…); sign it again` };
    return { ok: false, reason: `${name} was altered after signing: its sha256 is ${actual.slice(0, 16)}…, the signed subject digest is ${String(subject.digest?.sha256).slice(0, 16)}…` };
  }
  return { ok: true, statement, keyId: good.keyid ?? keyId };
}
