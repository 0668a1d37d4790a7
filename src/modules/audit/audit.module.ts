import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditCheckpoint } from 'src/modules/audit/audit-checkpoint.entity';
import { AuditChainHead, AuditEvent } from 'src/modules/audit/audit-event.entity';
import { AuditQueryService } from 'src/modules/audit/audit-query.service';
import { AuditService } from 'src/modules/audit/audit.service';
import { CheckpointService } from 'src/modules/audit/checkpoint.service';

/** The tamper-evident chain: appends inside callers' transactions, queries, verify, checkpoints. */
@Module({
  imports: [TypeOrmModule.forFeature([AuditEvent, AuditChainHead, AuditCheckpoint])],
  providers: [AuditService, AuditQueryService, CheckpointService],
  exports: [AuditService, AuditQueryService, CheckpointService],
})
export class AuditModule {}
