import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  Req,
} from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { AppException } from 'src/common/app.exception';
import type { AuthUser } from 'src/common/auth-user';
import { CurrentUser, Roles } from 'src/common/decorators';
import { ErrorCode } from 'src/common/error-code';
import { Role } from 'src/common/roles';
import {
  CheckDto,
  CreateTermDto,
  ListTermsQuery,
  UpdateTermDto,
} from 'src/modules/screening/dto/screening.dto';
import { ScreeningTermsService } from 'src/modules/screening/screening-terms.service';
import { ScreeningService } from 'src/modules/screening/screening.service';

@ApiTags('screening')
@ApiBearerAuth()
@Controller('screening')
export class ScreeningController {
  constructor(
    private readonly screening: ScreeningService,
    private readonly terms: ScreeningTermsService,
  ) {}

  /** Any signed-in user: an editor checks a draft before submitting it. */
  @HttpCode(200)
  @Post('check')
  check(@Body() dto: CheckDto) {
    return this.screening.check(dto);
  }

  @Roles(Role.PROPAGANDA_REVIEWER)
  @Get('terms')
  list(@Query() q: ListTermsQuery) {
    return this.terms.list(q);
  }

  @Roles(Role.PROPAGANDA_REVIEWER)
  @Get('terms/:id')
  get(@Param('id') id: string) {
    return this.terms.get(id);
  }

  @Roles(Role.PROPAGANDA_REVIEWER)
  @Post('terms')
  create(@Body() dto: CreateTermDto, @CurrentUser() user: AuthUser) {
    return this.terms.create(dto, user);
  }

  /** One `term[,category[,level]]` a line, as text/plain. */
  @Roles(Role.PROPAGANDA_REVIEWER)
  @HttpCode(200)
  @Post('terms/import')
  @ApiConsumes('text/plain')
  @ApiBody({ schema: { type: 'string', example: '# 敏感词\n某词,political,block\n另一词,,warn' } })
  import(@Body() body: unknown, @Req() req: Request, @CurrentUser() user: AuthUser) {
    const text = typeof body === 'string' ? body : req.is('text/plain') ? '' : null;
    if (text === null) {
      throw new AppException(
        ErrorCode.UNSUPPORTED_MEDIA_TYPE,
        'Send the term list as Content-Type: text/plain (UTF-8), one term[,category[,level]] a line',
      );
    }
    return this.terms.importList(text, user);
  }

  @Roles(Role.PROPAGANDA_REVIEWER)
  @Patch('terms/:id')
  update(@Param('id') id: string, @Body() dto: UpdateTermDto, @CurrentUser() user: AuthUser) {
    return this.terms.update(id, dto, user);
  }

  /** Deletes the entry; its `screening.term_deleted` event keeps what it was. */
  @Roles(Role.PROPAGANDA_REVIEWER)
  @Delete('terms/:id')
  remove(@Param('id') id: string, @CurrentUser() user: AuthUser) {
    return this.terms.remove(id, user);
  }
}
