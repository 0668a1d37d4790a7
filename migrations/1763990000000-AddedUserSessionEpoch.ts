import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';
import { col } from './columns';

/**
 * Sessions older than `users.sessionsValidFrom` are over: a password change or a
 * deactivation ends every session by moving this one column of the user, so the
 * users module never writes auth's session rows.
 */
export class AddedUserSessionEpoch1763990000000 implements MigrationInterface {
  name = 'AddedUserSessionEpoch1763990000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('users', new TableColumn(col.time('sessionsValidFrom', true)));
  }

  async down(q: QueryRunner): Promise<void> {
    // Plain DROP COLUMN: TypeORM's SQLite path rebuilds the table, which the foreign keys refuse.
    await q.query('ALTER TABLE users DROP COLUMN sessionsValidFrom');
  }
}
