import { Module } from '@nestjs/common';
import { ScreeningController } from 'src/modules/screening/screening.controller';
import { ScreeningService } from 'src/modules/screening/screening.service';

@Module({
  controllers: [ScreeningController],
  providers: [ScreeningService],
  exports: [ScreeningService],
})
export class ScreeningModule {}
