import { MigrationInterface, QueryRunner, TableIndex } from 'typeorm';

/** [table, index name, columns]: each ends in the list's sort key, so a page is an index walk. */
const ADDED: [string, string, string[]][] = [
  ['posts', 'IDX_posts_created_id', ['createdAt', 'id']],
  ['posts', 'IDX_posts_state_created', ['state', 'createdAt', 'id']],
  ['posts', 'IDX_posts_dept_created', ['departmentId', 'createdAt', 'id']],
  ['posts', 'IDX_posts_dept_state_created', ['departmentId', 'state', 'createdAt', 'id']],
  ['posts', 'IDX_posts_author_created', ['authorId', 'createdAt', 'id']],
  ['posts', 'IDX_posts_author_state_created', ['authorId', 'state', 'createdAt', 'id']],
  // The inbox, read key-only: a department's queue, and the propaganda queue, each carrying the
  // columns of its `!=` tests so skipped posts cost an index entry, not a row.
  ['posts', 'IDX_posts_inbox_dept', ['state', 'departmentId', 'stateChangedAt', 'id', 'authorId']],
  ['posts', 'IDX_posts_inbox', ['state', 'stateChangedAt', 'id', 'authorId', 'deptApproverId']],
  ['publications', 'IDX_publications_created_id', ['createdAt', 'id']],
  ['publications', 'IDX_publications_channel_created', ['channelId', 'createdAt', 'id']],
  ['publications', 'IDX_publications_status_created', ['status', 'createdAt', 'id']],
  ['audit_events', 'IDX_audit_entity_type', ['entityType', 'id']],
];

/** Indexes the new ones make redundant (each is a prefix of one above); recreated by down(). */
const DROPPED: [string, string, string[]][] = [
  ['posts', 'IDX_posts_created', ['createdAt']],
  ['posts', 'IDX_posts_author', ['authorId', 'createdAt']],
  ['posts', 'IDX_posts_department_state', ['departmentId', 'state', 'createdAt']],
  ['posts', 'IDX_posts_state_changed', ['state', 'stateChangedAt']],
  ['publications', 'IDX_publications_channel', ['channelId', 'createdAt']],
];

const BACKFILL_BATCH = 500;

/**
 * Keyset-friendly indexes for the lists, and the text-search index of post
 * titles and summaries (see src/modules/posts/post-search.ts), filled for every
 * existing post from its current revision.
 */
export class AddedListIndexesAndTextSearch1764000000000 implements MigrationInterface {
  name = 'AddedListIndexesAndTextSearch1764000000000';

  async up(q: QueryRunner): Promise<void> {
    const mysql = q.connection.driver.options.type === 'mysql';
    // New before old: on MySQL a foreign key needs some index that starts with its column.
    for (const [table, name, columnNames] of ADDED) {
      await q.createIndex(table, new TableIndex({ name, columnNames }));
    }
    for (const [table, name] of DROPPED) await q.dropIndex(table, name);

    // Lowered text, compared byte for byte: what matches is decided by post-search.ts, not by a
    // collation. On MySQL the grams are varbinary: byte order is code-point order, and no PAD
    // SPACE ('a' and 'a ' are two grams). SQLite compares text bytewise already.
    const bin = mysql ? ' CHARACTER SET utf8mb4 COLLATE utf8mb4_bin' : '';
    const engine = mysql ? ' ENGINE=InnoDB' : ' WITHOUT ROWID';
    await q.query(`CREATE TABLE post_search_docs (
      postId varchar(36) NOT NULL PRIMARY KEY,
      title varchar(256)${bin} NOT NULL,
      summary varchar(512)${bin} NULL,
      CONSTRAINT FK_post_search_docs_postId FOREIGN KEY (postId) REFERENCES posts (id)
    )${engine}`);
    await q.query(`CREATE TABLE post_search_grams (
      gram ${mysql ? 'varbinary(8)' : 'varchar(8)'} NOT NULL,
      createdAt datetime${mysql ? '(3)' : ''} NOT NULL,
      postId varchar(36) NOT NULL,
      PRIMARY KEY (gram, createdAt, postId)
    )${engine}`);

    for (let lastId = ''; ;) {
      const rows = (await q.query(
        `SELECT p.id AS postId, p.createdAt AS createdAt, r.title AS title, r.summary AS summary
         FROM posts p INNER JOIN post_revisions r ON r.id = p.currentRevisionId
         WHERE p.id > ? ORDER BY p.id LIMIT ${BACKFILL_BATCH}`,
        [lastId],
      )) as { postId: string; createdAt: unknown; title: string; summary: string | null }[];
      if (!rows.length) break;
      await backfill(q, rows);
      lastId = rows[rows.length - 1].postId;
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE post_search_grams');
    await q.query('DROP TABLE post_search_docs');
    for (const [table, name, columnNames] of DROPPED) {
      await q.createIndex(table, new TableIndex({ name, columnNames }));
    }
    for (const [table, name] of ADDED) await q.dropIndex(table, name);
  }
}

/*
 * The index rows as this migration defines them, frozen here (a migration must not follow
 * later changes of the feature code): lowered text, every character and adjacent pair.
 */
const fold = (s: string) => s.toLowerCase();

function grams(text: string): string[] {
  const cps = Array.from(fold(text));
  const out = new Set<string>(cps);
  for (let i = 0; i + 1 < cps.length; i++) out.add(cps[i] + cps[i + 1]);
  return [...out];
}

async function backfill(
  q: QueryRunner,
  rows: { postId: string; createdAt: unknown; title: string; summary: string | null }[],
): Promise<void> {
  const docs = rows.map((r) => [
    r.postId,
    fold(r.title),
    r.summary === null ? null : fold(r.summary),
  ]);
  await insertMany(q, 'post_search_docs', ['postId', 'title', 'summary'], docs);
  const gramRows = rows.flatMap((r) =>
    [...new Set([...grams(r.title), ...(r.summary ? grams(r.summary) : [])])].map((g) => [
      g,
      r.createdAt,
      r.postId,
    ]),
  );
  await insertMany(q, 'post_search_grams', ['gram', 'createdAt', 'postId'], gramRows);
}

async function insertMany(
  q: QueryRunner,
  table: string,
  columns: string[],
  rows: unknown[][],
): Promise<void> {
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  for (let i = 0; i < rows.length; i += 300) {
    const chunk = rows.slice(i, i + 300);
    await q.query(
      `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${chunk.map(() => tuple).join(', ')}`,
      chunk.flat(),
    );
  }
}
