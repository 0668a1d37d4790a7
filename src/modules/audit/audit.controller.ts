import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Roles } from 'src/common/decorators';
import { Role } from 'src/common/roles';
import { AuditQueryService } from 'src/modules/audit/audit-query.service';
import { AuditService } from 'src/modules/audit/audit.service';
import { ListAuditEventsQuery } from 'src/modules/audit/dto/list-audit-events.query';

@ApiTags('audit')
@ApiBearerAuth()
@Roles(Role.AUDITOR, Role.PROPAGANDA_REVIEWER)
@Controller('audit')
export class AuditController {
  constructor(
    private readonly audit: AuditService,
    private readonly queries: AuditQueryService,
  ) {}

  @Get('events')
  list(@Query() q: ListAuditEventsQuery) {
    return this.queries.list(q);
  }

  @Get('verify')
  verify() {
    return this.audit.verify();
  }
}
