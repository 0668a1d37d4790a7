import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from 'src/modules/audit/audit.module';
import { PostScreening } from 'src/modules/screening/post-screening.entity';
import { ScreeningState, ScreeningTerm } from 'src/modules/screening/screening-term.entity';
import { ScreeningService } from 'src/modules/screening/screening.service';

@Module({
  imports: [TypeOrmModule.forFeature([ScreeningTerm, ScreeningState, PostScreening]), AuditModule],
  providers: [ScreeningService],
  exports: [ScreeningService],
})
export class ScreeningModule {}
