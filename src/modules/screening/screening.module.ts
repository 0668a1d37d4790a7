import { Module } from '@nestjs/common';
import { ScreeningMatcherService } from 'src/modules/screening/screening-matcher.service';
import { ScreeningTermsService } from 'src/modules/screening/screening-terms.service';
import { ScreeningController } from 'src/modules/screening/screening.controller';
import { ScreeningService } from 'src/modules/screening/screening.service';

@Module({
  controllers: [ScreeningController],
  providers: [ScreeningMatcherService, ScreeningTermsService, ScreeningService],
  exports: [ScreeningMatcherService, ScreeningTermsService, ScreeningService],
})
export class ScreeningModule {}
