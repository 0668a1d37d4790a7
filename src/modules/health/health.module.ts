import { Module } from '@nestjs/common';
import { HealthService } from 'src/modules/health/health.service';
import { PublishingModule } from 'src/modules/publishing/publishing.module';

@Module({ imports: [PublishingModule], providers: [HealthService], exports: [HealthService] })
export class HealthModule {}
