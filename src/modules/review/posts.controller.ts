import { Body, Controller, Get, Param, ParseIntPipe, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { AuthUser } from 'src/common/auth-user';
import { CurrentUser } from 'src/common/decorators';
import {
  CreatePostDto,
  DiffQuery,
  ListPostsQuery,
  UpdatePostDto,
} from 'src/modules/posts/dto/post.dto';
import { PostsService } from 'src/modules/posts/posts.service';
import { PostViews } from 'src/modules/review/post-views.service';

@ApiTags('posts')
@ApiBearerAuth()
@Controller('posts')
export class PostsController {
  constructor(
    private readonly posts: PostsService,
    private readonly views: PostViews,
  ) {}

  @Post()
  async create(@Body() dto: CreatePostDto, @CurrentUser() user: AuthUser) {
    const post = await this.posts.create(dto, user);
    return this.views.view(post, user, { decisions: [], publications: [] });
  }

  @Get()
  list(@Query() q: ListPostsQuery, @CurrentUser() user: AuthUser) {
    return this.posts.list(q, user);
  }

  @Get(':id')
  async get(@Param('id') id: string, @CurrentUser() user: AuthUser) {
    return this.views.view(await this.posts.get(id, user), user);
  }

  @Patch(':id')
  async update(@Param('id') id: string, @Body() dto: UpdatePostDto, @CurrentUser() user: AuthUser) {
    // Only drafts and returned posts change, and those never have publications.
    const post = await this.posts.update(id, dto, user);
    return this.views.view(post, user, { publications: [] });
  }

  @Get(':id/revisions')
  revisions(@Param('id') id: string, @CurrentUser() user: AuthUser) {
    return this.posts.revisions(id, user);
  }

  @Get(':id/revisions/:number')
  revision(
    @Param('id') id: string,
    @Param('number', ParseIntPipe) n: number,
    @CurrentUser() user: AuthUser,
  ) {
    return this.posts.revision(id, n, user);
  }

  @Get(':id/diff')
  diff(@Param('id') id: string, @Query() q: DiffQuery, @CurrentUser() user: AuthUser) {
    return this.posts.diff(id, q.from, q.to, user);
  }

  @Get(':id/history')
  history(@Param('id') id: string, @CurrentUser() user: AuthUser) {
    return this.posts.history(id, user);
  }
}
