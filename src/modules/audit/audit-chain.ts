import { chainHash, GENESIS_HASH, HASHED_FIELDS, HashedEvent } from 'src/modules/audit/audit-hash';

/** A stored event as read back: MySQL returns the BIGINT id as a string. */
export type StoredEvent = Omit<HashedEvent, 'id'> & {
  id: number | string;
  prevHash: string;
  hash: string;
};

/** Where a walk along the chain stands: the next id expected and the hash it must link to. */
export interface ChainPosition {
  nextId: number;
  prevHash: string;
}

export const CHAIN_START: ChainPosition = { nextId: 1, prevHash: GENESIS_HASH };

export interface ChainBreak {
  brokenAt: number;
  reason: string;
  expected?: string;
  found?: string;
}

/** How far a walk got (every event before `position.nextId` checked) and what stopped it, if anything. */
export interface ChainWalk {
  position: ChainPosition;
  broken: ChainBreak | null;
  /** The events stopped before the range did: the tail is gone (or was never written). */
  ranOut?: boolean;
}

/** Anything that runs SQL: a DataSource, an EntityManager. */
export interface SqlRunner {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}

/**
 * Checks consecutive events against the chain from `start`: ids contiguous,
 * each prevHash the previous hash, each hash the recomputation of its content.
 * Pure, so the verify endpoint, the checkpoint verifier and the tests share it.
 */
export function verifyChainRange(rows: readonly StoredEvent[], start: ChainPosition): ChainWalk {
  let { nextId, prevHash } = start;
  for (const raw of rows) {
    const e = { ...raw, id: Number(raw.id) };
    const at: ChainPosition = { nextId, prevHash };
    if (e.id !== nextId) {
      return { position: at, broken: { brokenAt: nextId, reason: `event ${nextId} is missing` } };
    }
    if (e.prevHash !== prevHash) {
      return {
        position: at,
        broken: {
          brokenAt: e.id,
          reason: 'prevHash does not match the previous event',
          expected: prevHash,
          found: e.prevHash,
        },
      };
    }
    const h = chainHash(prevHash, e);
    if (h !== e.hash) {
      return {
        position: at,
        broken: {
          brokenAt: e.id,
          reason: 'hash does not match the event content',
          expected: h,
          found: e.hash,
        },
      };
    }
    prevHash = e.hash;
    nextId++;
  }
  return { position: { nextId, prevHash }, broken: null };
}

const WALK_BATCH = 2000;
const SELECT_STORED = [...HASHED_FIELDS, 'prevHash', 'hash'].join(', ');

/**
 * Walks the stored events from `start` up to and including `toId`, in keyset
 * pages (memory stays flat however long the chain is), yielding between pages.
 */
export async function walkStoredChain(
  db: SqlRunner,
  start: ChainPosition,
  toId: number,
  batchSize = WALK_BATCH,
): Promise<ChainWalk> {
  let position = start;
  while (position.nextId <= toId) {
    const batch = (await db.query(
      `SELECT ${SELECT_STORED} FROM audit_events WHERE id >= ? AND id <= ? ORDER BY id LIMIT ${batchSize}`,
      [position.nextId, toId],
    )) as StoredEvent[];
    if (batch.length === 0) {
      return {
        position,
        broken: { brokenAt: position.nextId, reason: `event ${position.nextId} is missing` },
        ranOut: true,
      };
    }
    const walk = verifyChainRange(batch, position);
    if (walk.broken) return walk;
    position = walk.position;
    await new Promise((r) => setImmediate(r));
  }
  return { position, broken: null };
}

export interface ChainHead {
  lastEventId: number;
  headHash: string;
}

export async function readChainHead(db: SqlRunner): Promise<ChainHead> {
  const [row] = (await db.query(
    'SELECT lastEventId, headHash FROM audit_chain_head WHERE id = 1',
  )) as { lastEventId: number | string; headHash: string }[];
  return { lastEventId: Number(row.lastEventId), headHash: row.headHash };
}

/**
 * The first break of a walk up to `head`, also looking past its end: events
 * written beyond the head (unless appended since the head was read) and a head
 * row that does not name the last event's hash. A tail that ran out is
 * reported after events past the head, which explain it better.
 */
export async function settleChainWalk(
  db: SqlRunner,
  walk: ChainWalk,
  head: ChainHead,
): Promise<ChainBreak | null> {
  if (walk.broken && !walk.ranOut) return walk.broken;
  const [{ maxId }] = (await db.query('SELECT MAX(id) AS maxId FROM audit_events')) as {
    maxId: number | string | null;
  }[];
  if (maxId !== null && Number(maxId) > head.lastEventId) {
    // Appended after we read the head, or written past it by hand: only the latter is a break.
    const now = await readChainHead(db);
    if (Number(maxId) > now.lastEventId) {
      return { brokenAt: now.lastEventId + 1, reason: 'events exist beyond the chain head' };
    }
  }
  if (walk.broken) return walk.broken;
  if (walk.position.prevHash !== head.headHash) {
    return {
      brokenAt: walk.position.nextId - 1,
      reason: 'the chain head does not match the last event',
      expected: head.headHash,
      found: walk.position.prevHash,
    };
  }
  return null;
}
