import { createPrivateKey, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateManifestKeys, IN_TOTO_PAYLOAD_TYPE, IN_TOTO_STATEMENT_TYPE, keyIdOf, MANIFEST_PREDICATE_TYPE, preAuthEncoding, readEd25519Key, sha256Hex, signManifest, verifyManifest } from '../../src/manifest/sign.ts';
import type { DsseEnvelope } from '../../src/manifest/types.ts';

const manifestOf = (runId: string) => Buffer.from(`${JSON.stringify({ schemaVersion: 1, release: 'v1.0.0', runId, measuredAt: '2026-12-01T00:00:00Z', backends: [{ name: 'cpu' }] }, null, 2)}\n`);
const keys = generateManifestKeys();
const privateKey = createPrivateKey(keys.privateKeyPem);
const publicKey = createPublicKey(keys.publicKeyPem);
const manifest = manifestOf('20261201T000000Z-aaaaaa');
const envelope = signManifest('manifest.json', manifest, privateKey);

/** A copy of the bytes with one bit of one byte flipped. */
function flip(bytes: Buffer, at: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[at] = copy[at]! ^ 0x01;
  return copy;
}

/** The envelope with one byte of its base64 field changed (decoded, flipped, re-encoded). */
function tampered(field: 'payload' | 'sig', at: number): DsseEnvelope {
  const e = structuredClone(envelope);
  if (field === 'payload') e.payload = flip(Buffer.from(e.payload, 'base64'), at).toString('base64');
  else e.signatures[0]!.sig = flip(Buffer.from(e.signatures[0]!.sig, 'base64'), at).toString('base64');
  return e;
}

const reasonOf = (outcome: ReturnType<typeof verifyManifest>) => (outcome.ok ? 'verified' : outcome.reason);

describe('DSSE envelope around an in-toto Statement v1', () => {
  it("encodes DSSE's pre-authentication encoding as the spec's example does", () => {
    expect(preAuthEncoding('http://example.com/HelloWorld', Buffer.from('hello world')).toString()).toBe('DSSEv1 29 http://example.com/HelloWorld 11 hello world');
    // Lengths count bytes, not characters.
    expect(preAuthEncoding('t', Buffer.from('é')).toString()).toBe('DSSEv1 1 t 2 é');
  });

  it('names the manifest file by its sha256 and signs the PAE with Ed25519, verifiable by node:crypto alone', () => {
    expect(envelope.payloadType).toBe(IN_TOTO_PAYLOAD_TYPE);
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString());
    expect(statement).toEqual({
      _type: IN_TOTO_STATEMENT_TYPE,
      subject: [{ name: 'manifest.json', digest: { sha256: sha256Hex(manifest) } }],
      predicateType: MANIFEST_PREDICATE_TYPE,
      predicate: { manifestSchemaVersion: 1, release: 'v1.0.0', runId: '20261201T000000Z-aaaaaa', measuredAt: '2026-12-01T00:00:00Z', backends: ['cpu'] },
    });
    expect(envelope.signatures).toEqual([{ keyid: keys.keyId, sig: expect.any(String) }]);
    const pae = preAuthEncoding(envelope.payloadType, Buffer.from(envelope.payload, 'base64'));
    expect(verify(null, pae, publicKey, Buffer.from(envelope.signatures[0]!.sig, 'base64'))).toBe(true);
    expect(keyIdOf(privateKey)).toBe(keyIdOf(publicKey));
    expect(reasonOf(verifyManifest('manifest.json', manifest, envelope, publicKey))).toBe('verified');
  });

  describe('rejects every tampering, saying which', () => {
    it('a flipped byte in the manifest', () => {
      for (const at of [0, 40, manifest.length - 2])
        expect(reasonOf(verifyManifest('manifest.json', flip(manifest, at), envelope, publicKey))).toMatch(/^manifest\.json was altered after signing: its sha256 is [0-9a-f]{16}…, the signed subject digest is/);
    });

    it('a flipped byte in the payload', () => {
      const length = Buffer.from(envelope.payload, 'base64').length;
      for (const at of [0, 100, length - 1]) expect(reasonOf(verifyManifest('manifest.json', manifest, tampered('payload', at), publicKey))).toBe('the signature does not verify over the payload: the payload was altered after signing');
    });

    it('a flipped byte in the signature', () => {
      for (const at of [0, 31, 63]) expect(reasonOf(verifyManifest('manifest.json', manifest, tampered('sig', at), publicKey))).toBe('the signature does not verify although the payload is intact: the signature was altered');
    });

    it('the wrong key', () => {
      const other = generateKeyPairSync('ed25519').publicKey;
      expect(reasonOf(verifyManifest('manifest.json', manifest, envelope, other))).toMatch(/^not signed by this key: the envelope names key [0-9a-f]{16}…, the public key is [0-9a-f]{16}…$/);
    });

    it('a stale subject digest: a valid envelope of an earlier run, next to a new manifest', () => {
      const newer = manifestOf('20261202T000000Z-bbbbbb');
      expect(reasonOf(verifyManifest('manifest.json', newer, envelope, publicKey))).toMatch(
        /^stale subject digest: the envelope signs the manifest of run 20261201T000000Z-aaaaaa \(sha256 [0-9a-f]{16}…\), but manifest\.json is run 20261202T000000Z-bbbbbb's/,
      );
    });

    it('the envelope itself: another payload type, no signatures, a subject of another name, not an envelope', () => {
      expect(reasonOf(verifyManifest('manifest.json', manifest, { ...envelope, payloadType: 'application/json' }, publicKey))).toBe('payloadType is "application/json", expected "application/vnd.in-toto+json"');
      expect(reasonOf(verifyManifest('manifest.json', manifest, { ...envelope, signatures: [] }, publicKey))).toBe('the envelope has no signatures');
      expect(reasonOf(verifyManifest('other.json', manifest, envelope, publicKey))).toBe('the statement has no subject named other.json (it names manifest.json)');
      expect(reasonOf(verifyManifest('manifest.json', manifest, [envelope], publicKey))).toBe('the envelope is not a JSON object');
      expect(reasonOf(verifyManifest('manifest.json', manifest, { ...envelope, payload: '%%%' }, publicKey))).toBe('the envelope payload is not base64');
    });
  });

  it('reads only Ed25519 PEM keys, naming where a wrong one came from', () => {
    expect(readEd25519Key(keys.privateKeyPem, 'private', '$KEY').asymmetricKeyType).toBe('ed25519');
    expect(() => readEd25519Key('not a key', 'private', '$KEY')).toThrow(/^\$KEY: not a PEM private key/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(() => readEd25519Key(rsa, 'public', 'key.pem')).toThrow('key.pem: a rsa key; manifests are signed with Ed25519');
  });
});
