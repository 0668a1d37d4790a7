import { MigrationInterface, QueryRunner, Table, TableColumn } from 'typeorm';
import { col } from './columns';

/**
 * Images stored by the gateway, content-addressed by SHA-256 (the bytes live under
 * DATA_DIR/media): what a revision's images are, so approval covers the pictures themselves.
 * Publications also keep the stable code of their last error, shown to authors in its place.
 */
export class CreatedMediaAndPublicationErrorCodes1764200000000 implements MigrationInterface {
  name = 'CreatedMediaAndPublicationErrorCodes1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'media',
        columns: [
          { ...col.str('sha256', 64), isPrimary: true },
          col.str('mimeType', 32),
          col.str('ext', 8),
          col.int('bytes'),
          { ...col.int('width'), isNullable: true },
          { ...col.int('height'), isNullable: true },
          col.str('sourceUrl', 2048, true),
          col.ref('createdBy'),
          col.time('createdAt'),
        ],
      }),
    );
    await q.addColumn('publications', new TableColumn(col.str('lastErrorCode', 64, true)));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('publications', 'lastErrorCode');
    await q.dropTable('media');
  }
}
