import { Module } from '@nestjs/common';
import { PostsModule } from 'src/modules/posts/posts.module';
import { ReviewController } from 'src/modules/review/review.controller';
import { ReviewService } from 'src/modules/review/review.service';
import { ScreeningModule } from 'src/modules/screening/screening.module';

@Module({
  imports: [PostsModule, ScreeningModule],
  controllers: [ReviewController],
  providers: [ReviewService],
})
export class ReviewModule {}
