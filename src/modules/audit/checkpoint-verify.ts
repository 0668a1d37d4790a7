import type { KeyObject } from 'node:crypto';
import {
  ChainBreak,
  ChainHead,
  CHAIN_START,
  settleChainWalk,
  readChainHead,
  SqlRunner,
  walkStoredChain,
} from 'src/modules/audit/audit-chain';
import {
  CHECKPOINT_ALGORITHM,
  CheckpointDocument,
  CheckpointStatement,
  checkpointSignatureValid,
  keyIdOf,
} from 'src/modules/audit/checkpoint-signature';

/** One stretch of the chain: events `from..to`, of which `checked` recomputed and matched. */
export interface SegmentReport {
  ok: boolean;
  from: number;
  to: number;
  checked: number;
  /** The first event that does not match what the database itself says about it. */
  brokenAt?: number;
  reason?: string;
  expected?: string;
  found?: string;
  /**
   * The chain is consistent with itself but not with a signed head: history in
   * these events was rewritten and every later hash recomputed.
   */
  rewrittenWithin?: { from: number; to: number };
}

export interface CheckpointVerification {
  ok: boolean;
  checkpoint: CheckpointStatement;
  signature: { ok: boolean; keyId: string; reason?: string };
  /** Events 1..lastEventId, recomputed from the database and held against the signed head. */
  covered: SegmentReport;
  /** Events after the checkpoint up to the current head; null when the covered part already broke. */
  beyond: SegmentReport | null;
  head: ChainHead;
  /**
   * Checkpoints stored in the database and signed by the same key are further
   * signed heads: they narrow down where a rewrite happened. Those under another
   * key are skipped; one whose signature fails was altered.
   */
  storedCheckpoints: { matched: number; skipped: number; altered: number[] };
}

interface Anchor {
  lastEventId: number;
  headHash: string;
  label: string;
  stored: boolean;
}

interface StoredCheckpointRow {
  id: number | string;
  lastEventId: number | string;
  headHash: string;
  count: number | string;
  createdAt: string;
  signature: string;
  keyId: string;
}

/**
 * Verifies a saved checkpoint against a database, from the database alone: the
 * signature with `publicKey`, then the chain recomputed from event 1 up to the
 * checkpoint (ids contiguous, every link and hash matching) and held against the
 * signed head, then the rest of the chain up to the current head.
 */
export async function verifyCheckpointFile(
  db: SqlRunner,
  checkpoint: CheckpointDocument,
  publicKey: KeyObject,
): Promise<CheckpointVerification> {
  const keyId = keyIdOf(publicKey);
  const sigOk = checkpointSignatureValid(checkpoint, publicKey);
  const signature = {
    ok: sigOk,
    keyId,
    ...(sigOk
      ? {}
      : {
          reason:
            checkpoint.keyId !== keyId
              ? `the checkpoint names key ${checkpoint.keyId}, but the public key given is ${keyId}`
              : 'the signature does not match the statement',
        }),
  };
  const L = checkpoint.statement.lastEventId;

  const stored = (await db.query(
    'SELECT id, lastEventId, headHash, count, createdAt, signature, keyId FROM audit_checkpoints ORDER BY lastEventId',
  )) as StoredCheckpointRow[];
  const storedCheckpoints = { matched: 0, skipped: 0, altered: [] as number[] };
  const anchors: Anchor[] = [
    {
      lastEventId: L,
      headHash: checkpoint.statement.headHash,
      label: 'the checkpoint',
      stored: false,
    },
  ];
  for (const r of stored) {
    if (r.keyId !== keyId) {
      storedCheckpoints.skipped++;
      continue;
    }
    const doc: CheckpointDocument = {
      statement: {
        lastEventId: Number(r.lastEventId),
        headHash: r.headHash,
        count: Number(r.count),
        time: r.createdAt,
      },
      signature: r.signature,
      keyId: r.keyId,
      algorithm: CHECKPOINT_ALGORITHM,
    };
    if (!checkpointSignatureValid(doc, publicKey)) {
      storedCheckpoints.altered.push(Number(r.id));
      continue;
    }
    anchors.push({
      lastEventId: doc.statement.lastEventId,
      headHash: doc.statement.headHash,
      label: `stored checkpoint ${Number(r.id)}`,
      stored: true,
    });
  }
  anchors.sort((a, b) => a.lastEventId - b.lastEventId);

  const head = await readChainHead(db);
  let position = CHAIN_START;
  let lastGood = 0;
  let broken: (Partial<ChainBreak> & Pick<SegmentReport, 'rewrittenWithin'>) | null = null;
  // A wrong head row or events past it concern the live end of the chain, never the signed part.
  let atEnd = false;
  for (const a of anchors) {
    const walk = await walkStoredChain(db, position, a.lastEventId);
    position = walk.position;
    if (walk.broken) {
      broken = walk.broken;
      break;
    }
    if (position.prevHash !== a.headHash) {
      broken = {
        reason: `the chain up to event ${a.lastEventId} recomputes to ${position.prevHash}, but ${a.label} signed ${a.headHash}: an event in ${lastGood + 1}..${a.lastEventId} was changed and the hashes after it recomputed`,
        expected: a.headHash,
        found: position.prevHash,
        rewrittenWithin: { from: lastGood + 1, to: a.lastEventId },
      };
      break;
    }
    if (a.stored) storedCheckpoints.matched++;
    lastGood = a.lastEventId;
  }
  if (!broken) {
    const walk = await walkStoredChain(db, position, head.lastEventId);
    position = walk.position;
    broken = await settleChainWalk(db, walk, head);
    atEnd = broken !== null;
  }

  const reached = position.nextId - 1;
  const breakEnd = broken?.rewrittenWithin?.to ?? broken?.brokenAt ?? Infinity;
  const inCovered = broken !== null && !atEnd && breakEnd <= L;
  const segment = (from: number, to: number, failed: boolean): SegmentReport => ({
    ok: !failed,
    from,
    to,
    checked: Math.max(0, Math.min(reached, to) - from + 1),
    ...(failed && broken ? broken : {}),
  });
  const covered = segment(1, L, inCovered);
  const beyond = inCovered
    ? null
    : segment(L + 1, Math.max(head.lastEventId, reached), broken !== null);
  return {
    ok: sigOk && covered.ok && (beyond?.ok ?? false) && storedCheckpoints.altered.length === 0,
    checkpoint: checkpoint.statement,
    signature,
    covered,
    beyond,
    head,
    storedCheckpoints,
  };
}

const short = (h: string) => h.slice(0, 16);
const events = (n: number) => `${n} event${n === 1 ? '' : 's'}`;

/** The report `npm run audit:verify` prints, one finding a line; the last line is the verdict. */
export function describeCheckpointVerification(
  r: CheckpointVerification,
  keySource: string,
): string[] {
  const lines: string[] = [];
  const { lastEventId: L, headHash, time } = r.checkpoint;
  lines.push(`checkpoint: events 1..${L}, head ${short(headHash)}…, signed ${time}`);
  lines.push(
    r.signature.ok
      ? `signature: ok (Ed25519, key ${r.signature.keyId}, from ${keySource})`
      : `signature: FAILED: ${r.signature.reason} (key from ${keySource})`,
  );
  const describe = (name: string, s: SegmentReport): string => {
    if (s.ok) return `${name}: ok, ${events(s.checked)} recomputed from the database`;
    if (s.rewrittenWithin) return `${name}: FAILED: ${s.reason}`;
    const detail = s.expected ? ` (expected ${s.expected}, found ${s.found})` : '';
    return `${name}: FAILED at event ${s.brokenAt}: ${s.reason}${detail}`;
  };
  lines.push(describe(`events 1..${L}`, r.covered));
  lines.push(
    !r.beyond
      ? 'events after the checkpoint: not checked'
      : r.beyond.to < r.beyond.from && r.beyond.ok
        ? 'events after the checkpoint: none'
        : describe(`events ${L + 1}..${r.beyond.to} (after the checkpoint)`, r.beyond),
  );
  const sc = r.storedCheckpoints;
  lines.push(
    `stored checkpoints under this key: ${sc.matched} matched` +
      (sc.skipped ? `, ${sc.skipped} under other keys skipped` : '') +
      (sc.altered.length ? `, ALTERED (signature fails): ${sc.altered.join(', ')}` : ''),
  );
  if (r.ok) {
    lines.push(
      `ok: the checkpoint's ${events(L)} intact; the chain holds ${events(r.head.lastEventId)}`,
    );
  } else {
    const first = !r.signature.ok
      ? 'the checkpoint signature is not valid'
      : !r.covered.ok
        ? firstProblem(r.covered)
        : r.beyond && !r.beyond.ok
          ? firstProblem(r.beyond)
          : `stored checkpoint ${sc.altered[0]} was altered`;
    lines.push(`FAILED: ${first}`);
  }
  return lines;
}

function firstProblem(s: SegmentReport): string {
  return s.rewrittenWithin
    ? `history within events ${s.rewrittenWithin.from}..${s.rewrittenWithin.to} was rewritten`
    : `event ${s.brokenAt}: ${s.reason}`;
}
