import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditQueryService } from 'src/modules/audit/audit-query.service';
import { AuditCheckpoint } from 'src/modules/audit/audit-checkpoint.entity';
import { AuditEvent } from 'src/modules/audit/audit-event.entity';
import { AuditController } from 'src/modules/audit/audit.controller';
import { AuditService } from 'src/modules/audit/audit.service';
import { CheckpointService } from 'src/modules/audit/checkpoint.service';

@Global()
@Module({
  imports: [TypeOrmModule.forFeature([AuditEvent, AuditCheckpoint])],
  controllers: [AuditController],
  providers: [AuditService, AuditQueryService, CheckpointService],
  exports: [AuditService, AuditQueryService],
})
export class AuditModule {}
