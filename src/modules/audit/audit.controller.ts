import { Controller, Get, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { AuthUser } from 'src/common/auth-user';
import { CurrentUser, Roles } from 'src/common/decorators';
import { Role } from 'src/common/roles';
import { AuditQueryService } from 'src/modules/audit/audit-query.service';
import { AuditService } from 'src/modules/audit/audit.service';
import { CheckpointService } from 'src/modules/audit/checkpoint.service';
import { ListAuditEventsQuery } from 'src/modules/audit/dto/list-audit-events.query';
import { ListCheckpointsQuery } from 'src/modules/audit/dto/list-checkpoints.query';

@ApiTags('audit')
@ApiBearerAuth()
@Roles(Role.AUDITOR, Role.PROPAGANDA_REVIEWER)
@Controller('audit')
export class AuditController {
  constructor(
    private readonly audit: AuditService,
    private readonly queries: AuditQueryService,
    private readonly checkpoints: CheckpointService,
  ) {}

  @Get('events')
  list(@Query() q: ListAuditEventsQuery) {
    return this.queries.list(q);
  }

  @Get('verify')
  verify() {
    return this.audit.verify();
  }

  /** Signed checkpoints, newest first; each item saved as a file is what `npm run audit:verify` reads. */
  @Get('checkpoints')
  listCheckpoints(@Query() q: ListCheckpointsQuery) {
    return this.checkpoints.list(q);
  }

  /** Signs the chain head now; keep the answer outside the database. */
  @Post('checkpoints')
  createCheckpoint(@CurrentUser() user: AuthUser) {
    return this.checkpoints.create('manual', user);
  }

  @Get('public-key')
  publicKey() {
    return this.checkpoints.publicKey();
  }
}
