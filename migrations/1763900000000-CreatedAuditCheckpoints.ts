import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';
import { col } from './columns';

export class CreatedAuditCheckpoints1763900000000 implements MigrationInterface {
  name = 'CreatedAuditCheckpoints1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'audit_checkpoints',
        columns: [
          // Assigned under the chain-head lock, like audit event ids: no AUTOINCREMENT to differ per driver.
          { name: 'id', type: 'bigint', isPrimary: true },
          { name: 'lastEventId', type: 'bigint' },
          col.str('headHash', 64),
          { name: 'count', type: 'bigint' },
          col.str('createdAt', 24),
          { name: 'signature', type: 'text' },
          col.str('keyId', 64),
          col.str('reason', 16),
        ],
        indices: [
          // Each checkpoint appends its own event, so no two can cover the same head.
          new TableIndex({
            name: 'UQ_audit_checkpoints_last_event',
            columnNames: ['lastEventId'],
            isUnique: true,
          }),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('audit_checkpoints');
  }
}
