import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { AuthUser } from 'src/common/auth-user';
import { CurrentUser } from 'src/common/decorators';
import {
  ApproveDto,
  InboxQuery,
  PlainActionDto,
  RejectDto,
  RetractDto,
  SubmitDto,
} from 'src/modules/review/dto/decision.dto';
import { ReviewService } from 'src/modules/review/review.service';

@ApiTags('review')
@ApiBearerAuth()
@Controller()
export class ReviewController {
  constructor(private readonly review: ReviewService) {}

  /** 一审: the author submits the revision it attests. */
  @HttpCode(200)
  @Post('posts/:id/submit')
  submit(@Param('id') id: string, @Body() dto: SubmitDto, @CurrentUser() user: AuthUser) {
    return this.review.act(id, 'submit', user, dto);
  }

  /** 二审 or 三审, by the post's state. */
  @HttpCode(200)
  @Post('posts/:id/approve')
  approve(@Param('id') id: string, @Body() dto: ApproveDto, @CurrentUser() user: AuthUser) {
    return this.review.act(id, 'approve', user, dto);
  }

  @HttpCode(200)
  @Post('posts/:id/reject')
  reject(@Param('id') id: string, @Body() dto: RejectDto, @CurrentUser() user: AuthUser) {
    return this.review.act(id, 'reject', user, dto);
  }

  @HttpCode(200)
  @Post('posts/:id/withdraw')
  withdraw(@Param('id') id: string, @Body() dto: PlainActionDto, @CurrentUser() user: AuthUser) {
    return this.review.act(id, 'withdraw', user, dto);
  }

  @HttpCode(200)
  @Post('posts/:id/archive')
  archive(@Param('id') id: string, @Body() dto: PlainActionDto, @CurrentUser() user: AuthUser) {
    return this.review.act(id, 'archive', user, dto);
  }

  /** 撤稿 by the propaganda department. */
  @HttpCode(200)
  @Post('posts/:id/retract')
  retract(@Param('id') id: string, @Body() dto: RetractDto, @CurrentUser() user: AuthUser) {
    return this.review.act(id, 'retract', user, dto);
  }

  @Get('review/inbox')
  inbox(@Query() q: InboxQuery, @CurrentUser() user: AuthUser) {
    return this.review.inbox(user, q);
  }
}
