import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from 'src/modules/audit/audit.module';
import { ChannelsModule } from 'src/modules/channels/channels.module';
import { MediaModule } from 'src/modules/media/media.module';
import { Decision } from 'src/modules/posts/decision.entity';
import { PostLifecycle } from 'src/modules/posts/post-lifecycle.service';
import { Post, PostChannel, PostRevision } from 'src/modules/posts/post.entity';
import { PostsService } from 'src/modules/posts/posts.service';
import { UsersModule } from 'src/modules/users/users.module';

/** Posts, their immutable revisions, the review decisions and the one writer of post state. */
@Module({
  imports: [
    TypeOrmModule.forFeature([Post, PostRevision, PostChannel, Decision]),
    AuditModule,
    ChannelsModule,
    MediaModule,
    UsersModule,
  ],
  providers: [PostsService, PostLifecycle],
  exports: [PostsService, PostLifecycle],
})
export class PostsModule {}
