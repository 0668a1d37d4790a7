import { Module } from '@nestjs/common';
import { PostsModule } from 'src/modules/posts/posts.module';
import { ReviewController } from 'src/modules/review/review.controller';
import { ReviewService } from 'src/modules/review/review.service';

@Module({
  imports: [PostsModule],
  controllers: [ReviewController],
  providers: [ReviewService],
})
export class ReviewModule {}
