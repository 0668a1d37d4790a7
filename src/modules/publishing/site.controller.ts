import { Controller, Get, Header, Param } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Public } from 'src/common/decorators';
import { SiteService } from 'src/modules/publishing/site.service';

/** Public, read-only: what a university web site pulls. No sign-in; published posts only. */
@ApiTags('website')
@Public()
@Controller('sites')
export class SiteController {
  constructor(private readonly site: SiteService) {}

  @Get(':channelId/feed.xml')
  @Header('Content-Type', 'application/atom+xml; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=60')
  feed(@Param('channelId') channelId: string) {
    return this.site.feed(channelId);
  }

  @Get(':channelId/posts/:postId')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=60')
  page(@Param('channelId') channelId: string, @Param('postId') postId: string) {
    return this.site.page(channelId, postId);
  }
}
