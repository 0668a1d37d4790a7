import { MigrationInterface, QueryRunner, TableColumn, TableIndex } from 'typeorm';
import { col } from './columns';

/** What the publisher needs to execute the outbox: the operation, a lease, adapter state. */
export class AddedPublicationDelivery1763850000000 implements MigrationInterface {
  name = 'AddedPublicationDelivery1763850000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumns('publications', [
      new TableColumn({ name: 'operation', type: 'varchar', length: '8', default: "'publish'" }),
      new TableColumn(col.str('leaseOwner', 64, true)),
      new TableColumn(col.time('leaseUntil', true)),
      new TableColumn(col.time('lastAttemptAt', true)),
      new TableColumn(col.text(q, 'adapterState', true)),
    ]);
    await q.createIndex(
      'publications',
      new TableIndex({ name: 'IDX_publications_post', columnNames: ['postId', 'status'] }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('publications', 'IDX_publications_post');
    for (const c of ['adapterState', 'lastAttemptAt', 'leaseUntil', 'leaseOwner', 'operation']) {
      await q.dropColumn('publications', c);
    }
  }
}
