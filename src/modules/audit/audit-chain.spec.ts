import { CHAIN_START, StoredEvent, verifyChainRange } from 'src/modules/audit/audit-chain';
import { chainHash, GENESIS_HASH } from 'src/modules/audit/audit-hash';

function chain(n: number): StoredEvent[] {
  const events: StoredEvent[] = [];
  let prev = GENESIS_HASH;
  for (let id = 1; id <= n; id++) {
    const e = {
      id,
      createdAt: `2026-01-01T00:00:0${id}.000Z`,
      actorId: null,
      actorRole: 'system',
      action: 'department.created',
      entityType: 'department',
      entityId: `d${id}`,
      fromState: null,
      toState: null,
      revisionId: null,
      contentHash: null,
      comment: null,
      details: null,
      requestId: null,
      ip: null,
      userAgent: null,
    };
    const hash = chainHash(prev, e);
    events.push({ ...e, prevHash: prev, hash });
    prev = hash;
  }
  return events;
}

describe('verifyChainRange', () => {
  it('walks an intact chain, also in pieces, and as MySQL returns ids (strings)', () => {
    const rows = chain(5);
    const whole = verifyChainRange(rows, CHAIN_START);
    expect(whole).toEqual({ position: { nextId: 6, prevHash: rows[4].hash }, broken: null });
    const first = verifyChainRange(rows.slice(0, 2), CHAIN_START);
    const rest = verifyChainRange(
      rows.slice(2).map((r) => ({ ...r, id: String(r.id) })),
      first.position,
    );
    expect(rest).toEqual(whole);
  });

  it('names a gap, a broken link and changed content', () => {
    const rows = chain(5);
    expect(verifyChainRange([rows[0], rows[2]], CHAIN_START)).toEqual({
      position: { nextId: 2, prevHash: rows[0].hash },
      broken: { brokenAt: 2, reason: 'event 2 is missing' },
    });
    const relinked = rows.map((r) => (r.id === 3 ? { ...r, prevHash: 'f'.repeat(64) } : r));
    expect(verifyChainRange(relinked, CHAIN_START).broken).toMatchObject({
      brokenAt: 3,
      reason: 'prevHash does not match the previous event',
    });
    const edited = rows.map((r) => (r.id === 4 ? { ...r, comment: 'edited' } : r));
    expect(verifyChainRange(edited, CHAIN_START)).toMatchObject({
      position: { nextId: 4, prevHash: rows[2].hash },
      broken: { brokenAt: 4, reason: 'hash does not match the event content', found: rows[3].hash },
    });
  });

  it('cannot see a rewrite whose later hashes were recomputed: that takes a signed head', () => {
    const rows = chain(5);
    let prev = GENESIS_HASH;
    const rewritten = rows.map((r) => {
      const e = {
        ...r,
        id: Number(r.id),
        prevHash: prev,
        comment: r.id === 2 ? 'rewritten' : r.comment,
      };
      e.hash = chainHash(prev, e);
      prev = e.hash;
      return e;
    });
    const walk = verifyChainRange(rewritten, CHAIN_START);
    expect(walk.broken).toBeNull();
    expect(walk.position.prevHash).not.toBe(rows[4].hash);
  });
});
