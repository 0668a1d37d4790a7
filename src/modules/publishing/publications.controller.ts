import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { AuthUser } from 'src/common/auth-user';
import { CurrentUser, Roles } from 'src/common/decorators';
import { Role } from 'src/common/roles';
import { ListPublicationsQuery } from 'src/modules/publishing/dto/publication.dto';
import { PublicationsService } from 'src/modules/publishing/publications.service';

@ApiTags('publishing')
@ApiBearerAuth()
@Controller('publications')
export class PublicationsController {
  constructor(private readonly publications: PublicationsService) {}

  @Roles(Role.AUDITOR, Role.PROPAGANDA_REVIEWER)
  @Get()
  list(@Query() q: ListPublicationsQuery) {
    return this.publications.list(q);
  }

  @Roles(Role.PROPAGANDA_REVIEWER)
  @HttpCode(200)
  @Post(':id/retry')
  retry(@Param('id') id: string, @CurrentUser() user: AuthUser) {
    return this.publications.retry(id, user);
  }
}
