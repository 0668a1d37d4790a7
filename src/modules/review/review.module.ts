import { Module } from '@nestjs/common';
import { AuditModule } from 'src/modules/audit/audit.module';
import { ChannelsModule } from 'src/modules/channels/channels.module';
import { PostsModule } from 'src/modules/posts/posts.module';
import { PublishingModule } from 'src/modules/publishing/publishing.module';
import { PostViews } from 'src/modules/review/post-views.service';
import { ReviewService } from 'src/modules/review/review.service';
import { ScreeningModule } from 'src/modules/screening/screening.module';
import { UsersModule } from 'src/modules/users/users.module';

/** The review workflow: who may move a post, each move, the inbox, and the post as a caller sees it. */
@Module({
  imports: [
    AuditModule,
    ChannelsModule,
    PostsModule,
    PublishingModule,
    ScreeningModule,
    UsersModule,
  ],
  providers: [ReviewService, PostViews],
  exports: [ReviewService, PostViews],
})
export class ReviewModule {}
