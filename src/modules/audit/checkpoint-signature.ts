import { createHash, createPublicKey, KeyObject, sign, verify } from 'node:crypto';
import { canonicalJson } from 'src/common/canonical-json';

export const CHECKPOINT_ALGORITHM = 'Ed25519';

/** What a checkpoint signs: "events 1..lastEventId, `count` of them, hash to headHash", and when. */
export interface CheckpointStatement {
  lastEventId: number;
  headHash: string;
  count: number;
  /** ISO-8601 UTC. */
  time: string;
}

/** A checkpoint as saved to a file and given to `npm run audit:verify`. */
export interface CheckpointDocument {
  statement: CheckpointStatement;
  /** Ed25519 over the canonical JSON of the statement, base64. */
  signature: string;
  keyId: string;
  algorithm: typeof CHECKPOINT_ALGORITHM;
}

const STATEMENT_FIELDS = ['lastEventId', 'headHash', 'count', 'time'] as const;
const HEX64 = /^[0-9a-f]{64}$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The public half of a key (a private key yields its public key; a public key itself). */
export function publicKeyOf(key: KeyObject): KeyObject {
  return key.type === 'private' ? createPublicKey(key) : key;
}

/** SHA-256 (hex) of the public key as DER SubjectPublicKeyInfo: `openssl pkey -pubin -outform DER | sha256sum`. */
export function keyIdOf(key: KeyObject): string {
  const der = publicKeyOf(key).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex');
}

/** The exact bytes signed: canonical JSON of the four statement fields and nothing else. */
export function statementBytes(s: CheckpointStatement): Buffer {
  return Buffer.from(
    canonicalJson({
      lastEventId: s.lastEventId,
      headHash: s.headHash,
      count: s.count,
      time: s.time,
    }),
    'utf8',
  );
}

export function signCheckpoint(
  statement: CheckpointStatement,
  privateKey: KeyObject,
): CheckpointDocument {
  if (privateKey.asymmetricKeyType !== 'ed25519' || privateKey.type !== 'private') {
    throw new Error('audit checkpoints are signed with an Ed25519 private key');
  }
  return {
    statement,
    signature: sign(null, statementBytes(statement), privateKey).toString('base64'),
    keyId: keyIdOf(privateKey),
    algorithm: CHECKPOINT_ALGORITHM,
  };
}

/** Whether `publicKey` signed this statement. The document's keyId is a label, not trusted here. */
export function checkpointSignatureValid(doc: CheckpointDocument, publicKey: KeyObject): boolean {
  const key = publicKeyOf(publicKey);
  if (key.asymmetricKeyType !== 'ed25519') return false;
  if (!BASE64.test(doc.signature)) return false;
  const sig = Buffer.from(doc.signature, 'base64');
  if (sig.length !== 64) return false;
  return verify(null, statementBytes(doc.statement), key, sig);
}

/**
 * Reads a checkpoint document (a saved POST answer or list item: `id`, `reason`
 * and other unsigned members are ignored). Throws an Error naming what is wrong.
 */
export function parseCheckpointDocument(value: unknown): CheckpointDocument {
  const fail = (what: string): never => {
    throw new Error(`not an audit checkpoint: ${what}`);
  };
  if (!isObject(value)) return fail('expected a JSON object');
  if (value.algorithm !== CHECKPOINT_ALGORITHM) fail(`algorithm must be "${CHECKPOINT_ALGORITHM}"`);
  if (typeof value.signature !== 'string' || !BASE64.test(value.signature)) {
    fail('signature must be base64');
  }
  if (typeof value.keyId !== 'string' || !HEX64.test(value.keyId)) {
    fail('keyId must be 64 hex digits');
  }
  const s = value.statement;
  if (!isObject(s)) return fail('statement must be an object');
  const extra = Object.keys(s).filter((k) => !(STATEMENT_FIELDS as readonly string[]).includes(k));
  // An unsigned member inside the statement could mislead a reader of the file.
  if (extra.length) fail(`statement has unsigned member ${extra.join(', ')}`);
  if (!Number.isSafeInteger(s.lastEventId) || (s.lastEventId as number) < 0) {
    fail('statement.lastEventId must be a non-negative integer');
  }
  if (s.count !== s.lastEventId) fail('statement.count must equal statement.lastEventId');
  if (typeof s.headHash !== 'string' || !HEX64.test(s.headHash)) {
    fail('statement.headHash must be 64 hex digits');
  }
  if (typeof s.time !== 'string' || !ISO_UTC.test(s.time)) {
    fail('statement.time must be an ISO-8601 UTC time');
  }
  return {
    statement: {
      lastEventId: s.lastEventId as number,
      headHash: s.headHash as string,
      count: s.count as number,
      time: s.time as string,
    },
    signature: value.signature as string,
    keyId: value.keyId as string,
    algorithm: CHECKPOINT_ALGORITHM,
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
