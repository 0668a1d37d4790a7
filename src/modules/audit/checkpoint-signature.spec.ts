import { createHash, generateKeyPairSync, verify } from 'node:crypto';
import { canonicalJson } from 'src/common/canonical-json';
import {
  CheckpointStatement,
  checkpointSignatureValid,
  keyIdOf,
  parseCheckpointDocument,
  signCheckpoint,
  statementBytes,
} from 'src/modules/audit/checkpoint-signature';

describe('checkpoint signatures', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const other = generateKeyPairSync('ed25519');
  const statement: CheckpointStatement = {
    lastEventId: 42,
    headHash: 'ab'.repeat(32),
    count: 42,
    time: '2026-03-01T08:00:00.000Z',
  };

  it('signs the canonical JSON of the statement, verifiable with plain node:crypto', () => {
    const doc = signCheckpoint(statement, privateKey);
    expect(doc).toEqual({
      statement,
      signature: expect.stringMatching(/^[A-Za-z0-9+/]{86}==$/),
      keyId: keyIdOf(publicKey),
      algorithm: 'Ed25519',
    });
    const signed = Buffer.from(canonicalJson(statement));
    expect(statementBytes(statement).toString()).toBe(
      '{"count":42,"headHash":"' +
        'ab'.repeat(32) +
        '","lastEventId":42,"time":"2026-03-01T08:00:00.000Z"}',
    );
    expect(verify(null, signed, publicKey, Buffer.from(doc.signature, 'base64'))).toBe(true);
    expect(checkpointSignatureValid(doc, publicKey)).toBe(true);
    // The private key stands for its public half.
    expect(checkpointSignatureValid(doc, privateKey)).toBe(true);
  });

  it('names the key by the SHA-256 of its DER public key, the same from either half', () => {
    const der = publicKey.export({ type: 'spki', format: 'der' });
    expect(keyIdOf(publicKey)).toBe(createHash('sha256').update(der).digest('hex'));
    expect(keyIdOf(privateKey)).toBe(keyIdOf(publicKey));
    expect(keyIdOf(other.publicKey)).not.toBe(keyIdOf(publicKey));
  });

  it.each<[string, (s: CheckpointStatement) => CheckpointStatement]>([
    ['a different head', (s) => ({ ...s, headHash: 'cd'.repeat(32) })],
    ['a different last event', (s) => ({ ...s, lastEventId: 41, count: 41 })],
    ['a different time', (s) => ({ ...s, time: '2026-03-01T09:00:00.000Z' })],
  ])('rejects the signature over %s', (_, change) => {
    const doc = signCheckpoint(statement, privateKey);
    expect(checkpointSignatureValid({ ...doc, statement: change(statement) }, publicKey)).toBe(
      false,
    );
  });

  it('rejects another key, a flipped bit and a malformed signature', () => {
    const doc = signCheckpoint(statement, privateKey);
    expect(checkpointSignatureValid(doc, other.publicKey)).toBe(false);
    const sig = Buffer.from(doc.signature, 'base64');
    sig[10] ^= 1;
    expect(checkpointSignatureValid({ ...doc, signature: sig.toString('base64') }, publicKey)).toBe(
      false,
    );
    expect(checkpointSignatureValid({ ...doc, signature: 'AAAA' }, publicKey)).toBe(false);
    expect(checkpointSignatureValid({ ...doc, signature: 'not base64!' }, publicKey)).toBe(false);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(checkpointSignatureValid(doc, rsa.publicKey)).toBe(false);
  });

  it('refuses to sign with anything but an Ed25519 private key', () => {
    expect(() => signCheckpoint(statement, publicKey)).toThrow(/Ed25519 private key/);
  });

  it('reads a saved document, ignoring unsigned members around the statement', () => {
    const doc = signCheckpoint(statement, privateKey);
    const saved = JSON.parse(JSON.stringify({ id: 3, reason: 'manual', ...doc }));
    expect(parseCheckpointDocument(saved)).toEqual(doc);
  });

  it.each<[string, (d: Record<string, any>) => unknown, RegExp]>([
    ['not an object', () => [1, 2], /JSON object/],
    ['another algorithm', (d) => ({ ...d, algorithm: 'RSA' }), /algorithm/],
    [
      'an unsigned member in the statement',
      (d) => ({ ...d, statement: { ...d.statement, note: 'x' } }),
      /unsigned member note/,
    ],
    [
      'a count unlike the last id',
      (d) => ({ ...d, statement: { ...d.statement, count: 7 } }),
      /count/,
    ],
    [
      'a short head hash',
      (d) => ({ ...d, statement: { ...d.statement, headHash: 'abc' } }),
      /headHash/,
    ],
    [
      'a fractional id',
      (d) => ({ ...d, statement: { ...d.statement, lastEventId: 1.5, count: 1.5 } }),
      /lastEventId/,
    ],
    [
      'a local time',
      (d) => ({ ...d, statement: { ...d.statement, time: '2026-03-01 08:00' } }),
      /time/,
    ],
    ['a missing signature', (d) => ({ ...d, signature: undefined }), /signature/],
    ['a bad key id', (d) => ({ ...d, keyId: 'k1' }), /keyId/],
  ])('refuses a document with %s', (_, change, message) => {
    const doc = signCheckpoint(statement, privateKey) as unknown as Record<string, any>;
    expect(() => parseCheckpointDocument(change(doc))).toThrow(message);
  });
});
