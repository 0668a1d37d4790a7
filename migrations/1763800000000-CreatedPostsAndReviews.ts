import { MigrationInterface, QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';
import { col } from './columns';

const fk = (table: string, column: string, target: string) =>
  new TableForeignKey({
    name: `FK_${table}_${column}`,
    columnNames: [column],
    referencedTableName: target,
    referencedColumnNames: ['id'],
  });

export class CreatedPostsAndReviews1763800000000 implements MigrationInterface {
  name = 'CreatedPostsAndReviews1763800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'posts',
        columns: [
          col.id(),
          col.ref('authorId'),
          col.ref('departmentId'),
          col.str('state', 32),
          col.int('version', 1),
          col.int('round', 0),
          col.ref('currentRevisionId', true),
          col.int('currentRevisionNumber', 0),
          // The current revision's title, kept here for lists and text search.
          col.str('title', 64),
          col.time('publishAt', true),
          col.ref('deptApproverId', true),
          col.time('stateChangedAt'),
          col.time('createdAt'),
          col.time('updatedAt'),
        ],
        indices: [
          new TableIndex({
            name: 'IDX_posts_state_changed',
            columnNames: ['state', 'stateChangedAt'],
          }),
          new TableIndex({
            name: 'IDX_posts_department_state',
            columnNames: ['departmentId', 'state', 'createdAt'],
          }),
          new TableIndex({ name: 'IDX_posts_author', columnNames: ['authorId', 'createdAt'] }),
          new TableIndex({ name: 'IDX_posts_created', columnNames: ['createdAt'] }),
          new TableIndex({ name: 'IDX_posts_title', columnNames: ['title'] }),
        ],
        foreignKeys: [fk('posts', 'authorId', 'users'), fk('posts', 'departmentId', 'departments')],
      }),
    );
    await q.createTable(
      new Table({
        name: 'post_revisions',
        columns: [
          col.id(),
          col.ref('postId'),
          col.int('number'),
          col.str('title', 64),
          col.str('summary', 120, true),
          col.text(q, 'body', false),
          col.str('coverImageUrl', 1024, true),
          col.text(q, 'channelIds', false),
          col.time('publishAt', true),
          col.str('contentHash', 64),
          col.ref('createdBy'),
          col.time('createdAt'),
        ],
        indices: [
          new TableIndex({
            name: 'UQ_post_revisions_number',
            columnNames: ['postId', 'number'],
            isUnique: true,
          }),
        ],
        foreignKeys: [
          fk('post_revisions', 'postId', 'posts'),
          fk('post_revisions', 'createdBy', 'users'),
        ],
      }),
    );
    // The channels the current revision targets, for the channel filter of GET /posts.
    await q.createTable(
      new Table({
        name: 'post_channels',
        columns: [
          { ...col.ref('postId'), isPrimary: true },
          { ...col.ref('channelId'), isPrimary: true },
        ],
        indices: [
          new TableIndex({
            name: 'IDX_post_channels_channel',
            columnNames: ['channelId', 'postId'],
          }),
        ],
        foreignKeys: [
          fk('post_channels', 'postId', 'posts'),
          fk('post_channels', 'channelId', 'channels'),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'decisions',
        columns: [
          col.id(),
          col.ref('postId'),
          col.int('round'),
          col.ref('revisionId'),
          col.int('revisionNumber'),
          col.str('contentHash', 64),
          col.int('level'),
          col.str('outcome', 16),
          col.ref('reviewerId'),
          col.str('reviewerRoles', 200),
          col.text(q, 'comment', true),
          col.text(q, 'attestation', true),
          col.time('createdAt'),
        ],
        indices: [
          new TableIndex({ name: 'IDX_decisions_post', columnNames: ['postId', 'createdAt'] }),
          new TableIndex({
            name: 'IDX_decisions_reviewer',
            columnNames: ['reviewerId', 'createdAt'],
          }),
        ],
        foreignKeys: [
          fk('decisions', 'postId', 'posts'),
          fk('decisions', 'revisionId', 'post_revisions'),
          fk('decisions', 'reviewerId', 'users'),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'publications',
        columns: [
          col.id(),
          col.ref('postId'),
          col.ref('channelId'),
          col.ref('revisionId'),
          col.str('contentHash', 64),
          col.str('status', 16),
          col.int('attempts', 0),
          col.time('nextAttemptAt', true),
          col.text(q, 'lastError', true),
          col.str('externalId', 255, true),
          col.str('url', 1024, true),
          col.time('publishedAt', true),
          col.time('createdAt'),
          col.time('updatedAt'),
        ],
        indices: [
          new TableIndex({
            name: 'UQ_publications_post_channel',
            columnNames: ['postId', 'channelId'],
            isUnique: true,
          }),
          new TableIndex({
            name: 'IDX_publications_due',
            columnNames: ['status', 'nextAttemptAt'],
          }),
          new TableIndex({
            name: 'IDX_publications_channel',
            columnNames: ['channelId', 'createdAt'],
          }),
        ],
        foreignKeys: [
          fk('publications', 'postId', 'posts'),
          fk('publications', 'channelId', 'channels'),
          fk('publications', 'revisionId', 'post_revisions'),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['publications', 'decisions', 'post_channels', 'post_revisions', 'posts'])
      await q.dropTable(t);
  }
}
