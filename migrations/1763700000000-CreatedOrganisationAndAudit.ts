import { MigrationInterface, QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';
import { col } from './columns';

const GENESIS = '0'.repeat(64);

export class CreatedOrganisationAndAudit1763700000000 implements MigrationInterface {
  name = 'CreatedOrganisationAndAudit1763700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'departments',
        columns: [
          col.id(),
          col.str('name', 100),
          col.str('code', 32),
          col.bool('isPropaganda', false),
          col.bool('active', true),
          col.time('createdAt'),
          col.time('updatedAt'),
        ],
        indices: [
          new TableIndex({ name: 'UQ_departments_code', columnNames: ['code'], isUnique: true }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'users',
        columns: [
          col.id(),
          col.str('username', 64),
          col.str('displayName', 100),
          col.str('passwordHash', 255),
          col.str('roles', 200),
          col.ref('departmentId'),
          col.bool('active', true),
          col.time('createdAt'),
          col.time('updatedAt'),
        ],
        indices: [
          new TableIndex({ name: 'UQ_users_username', columnNames: ['username'], isUnique: true }),
          new TableIndex({ name: 'IDX_users_department', columnNames: ['departmentId'] }),
        ],
        foreignKeys: [
          new TableForeignKey({
            name: 'FK_users_department',
            columnNames: ['departmentId'],
            referencedTableName: 'departments',
            referencedColumnNames: ['id'],
          }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'channels',
        columns: [
          col.id(),
          col.str('name', 100),
          col.str('platform', 16),
          col.ref('departmentId'),
          col.bool('acceptsSubmissions', false),
          col.bool('active', true),
          col.text(q, 'config', false),
          col.text(q, 'credentials', true),
          col.time('createdAt'),
          col.time('updatedAt'),
        ],
        indices: [
          new TableIndex({ name: 'IDX_channels_department', columnNames: ['departmentId'] }),
          new TableIndex({ name: 'IDX_channels_platform', columnNames: ['platform'] }),
        ],
        foreignKeys: [
          new TableForeignKey({
            name: 'FK_channels_department',
            columnNames: ['departmentId'],
            referencedTableName: 'departments',
            referencedColumnNames: ['id'],
          }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'sessions',
        columns: [
          col.id(),
          col.ref('userId'),
          col.time('createdAt'),
          col.time('expiresAt'),
          col.time('revokedAt', true),
          col.str('revokedReason', 32, true),
          col.str('ip', 64, true),
          col.str('userAgent', 255, true),
        ],
        indices: [new TableIndex({ name: 'IDX_sessions_user', columnNames: ['userId'] })],
        foreignKeys: [
          new TableForeignKey({
            name: 'FK_sessions_user',
            columnNames: ['userId'],
            referencedTableName: 'users',
            referencedColumnNames: ['id'],
          }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'refresh_tokens',
        columns: [
          col.id(),
          col.ref('sessionId'),
          col.str('tokenHash', 64),
          col.time('createdAt'),
          col.time('usedAt', true),
        ],
        indices: [
          new TableIndex({
            name: 'UQ_refresh_tokens_hash',
            columnNames: ['tokenHash'],
            isUnique: true,
          }),
          new TableIndex({ name: 'IDX_refresh_tokens_session', columnNames: ['sessionId'] }),
        ],
        foreignKeys: [
          new TableForeignKey({
            name: 'FK_refresh_tokens_session',
            columnNames: ['sessionId'],
            referencedTableName: 'sessions',
            referencedColumnNames: ['id'],
          }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'audit_events',
        columns: [
          { name: 'id', type: 'bigint', isPrimary: true },
          col.str('createdAt', 24),
          col.ref('actorId', true),
          col.str('actorRole', 100, true),
          col.str('action', 64),
          col.str('entityType', 32),
          col.str('entityId', 64, true),
          col.str('fromState', 32, true),
          col.str('toState', 32, true),
          col.ref('revisionId', true),
          col.str('contentHash', 64, true),
          col.text(q, 'comment', true),
          col.text(q, 'details', true),
          col.str('requestId', 64, true),
          col.str('ip', 64, true),
          col.str('userAgent', 255, true),
          col.str('prevHash', 64),
          col.str('hash', 64),
        ],
        indices: [
          new TableIndex({ name: 'IDX_audit_action', columnNames: ['action', 'id'] }),
          new TableIndex({ name: 'IDX_audit_actor', columnNames: ['actorId', 'id'] }),
          new TableIndex({
            name: 'IDX_audit_entity',
            columnNames: ['entityType', 'entityId', 'id'],
          }),
          new TableIndex({ name: 'IDX_audit_created', columnNames: ['createdAt'] }),
        ],
      }),
    );
    // One row, locked by every append: the only serialisation point of the chain.
    await q.createTable(
      new Table({
        name: 'audit_chain_head',
        columns: [
          { name: 'id', type: 'int', isPrimary: true },
          { name: 'lastEventId', type: 'bigint', default: 0 },
          col.str('headHash', 64),
        ],
      }),
    );
    await q.query(
      `INSERT INTO audit_chain_head (id, lastEventId, headHash) VALUES (1, 0, '${GENESIS}')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of [
      'audit_chain_head',
      'audit_events',
      'refresh_tokens',
      'sessions',
      'channels',
      'users',
      'departments',
    ]) {
      await q.dropTable(t);
    }
  }
}
