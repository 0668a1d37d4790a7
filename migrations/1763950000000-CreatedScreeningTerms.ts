import { MigrationInterface, QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';
import { col } from './columns';

const fk = (table: string, column: string, target: string) =>
  new TableForeignKey({
    name: `FK_${table}_${column}`,
    columnNames: [column],
    referencedTableName: target,
    referencedColumnNames: ['id'],
  });

/** The sensitive-term dictionary (敏感词库) and the screening result of each submission. */
export class CreatedScreeningTerms1763950000000 implements MigrationInterface {
  name = 'CreatedScreeningTerms1763950000000';

  async up(q: QueryRunner): Promise<void> {
    const mysql = q.connection.driver.options.type === 'mysql';
    await q.createTable(
      new Table({
        name: 'screening_terms',
        columns: [
          col.id(),
          col.str('term', 100),
          {
            ...col.str('normalizedTerm', 100),
            // Compared code point by code point, as the matcher does: utf8mb4_unicode_ci would
            // call ア and あ (and every pair of astral characters) the same term.
            ...(mysql ? { charset: 'utf8mb4', collation: 'utf8mb4_bin' } : {}),
          },
          col.str('category', 32),
          col.str('level', 8),
          col.bool('allow', false),
          col.ref('createdBy'),
          col.time('createdAt'),
          col.time('updatedAt'),
        ],
        indices: [
          new TableIndex({
            name: 'UQ_screening_terms_normalized',
            columnNames: ['normalizedTerm'],
            isUnique: true,
          }),
          new TableIndex({ name: 'IDX_screening_terms_category', columnNames: ['category'] }),
          new TableIndex({ name: 'IDX_screening_terms_level', columnNames: ['level', 'allow'] }),
        ],
        foreignKeys: [fk('screening_terms', 'createdBy', 'users')],
      }),
    );
    // One row (id 1): bumped in the transaction of every dictionary change, so each process can
    // tell with one primary-key read whether its matcher is stale.
    await q.createTable(
      new Table({
        name: 'screening_state',
        columns: [
          { name: 'id', type: 'int', isPrimary: true },
          { name: 'version', type: 'bigint' },
        ],
      }),
    );
    await q.query('INSERT INTO screening_state (id, version) VALUES (1, 0)');
    await q.createTable(
      new Table({
        name: 'post_screenings',
        columns: [
          col.id(),
          col.ref('postId'),
          col.int('round'),
          col.ref('revisionId'),
          col.ref('decisionId'),
          // Every hit, of which `hits` keeps the first MAX_STORED_HITS.
          col.int('hitCount', 0),
          col.text(q, 'hits', false),
          col.time('createdAt'),
        ],
        indices: [
          new TableIndex({
            name: 'UQ_post_screenings_round',
            columnNames: ['postId', 'round'],
            isUnique: true,
          }),
        ],
        foreignKeys: [
          fk('post_screenings', 'postId', 'posts'),
          fk('post_screenings', 'revisionId', 'post_revisions'),
          fk('post_screenings', 'decisionId', 'decisions'),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['post_screenings', 'screening_state', 'screening_terms']) await q.dropTable(t);
  }
}
