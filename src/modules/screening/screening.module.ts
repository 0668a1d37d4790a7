import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from 'src/modules/audit/audit.module';
import { PostScreening } from 'src/modules/screening/post-screening.entity';
import { ScreeningState, ScreeningTerm } from 'src/modules/screening/screening-term.entity';
import { ScreeningMatcherService } from 'src/modules/screening/screening-matcher.service';
import { ScreeningTermsService } from 'src/modules/screening/screening-terms.service';
import { ScreeningService } from 'src/modules/screening/screening.service';

/** 敏感词: the terms dictionary, the matcher's lifecycle, and screening itself. */
@Module({
  imports: [TypeOrmModule.forFeature([ScreeningTerm, ScreeningState, PostScreening]), AuditModule],
  providers: [ScreeningMatcherService, ScreeningTermsService, ScreeningService],
  exports: [ScreeningMatcherService, ScreeningTermsService, ScreeningService],
})
export class ScreeningModule {}
