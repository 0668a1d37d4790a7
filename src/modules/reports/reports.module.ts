import { Module } from '@nestjs/common';
import { PostsModule } from 'src/modules/posts/posts.module';
import { RegisterService } from 'src/modules/reports/register.service';
import { ReportExportsService } from 'src/modules/reports/report-exports.service';
import { ReportsController } from 'src/modules/reports/reports.controller';
import { ReportsService } from 'src/modules/reports/reports.service';

/** Oversight reports: the summary, the streamed exports and the per-post 审核登记表. Read-only. */
@Module({
  imports: [PostsModule],
  controllers: [ReportsController],
  providers: [ReportsService, ReportExportsService, RegisterService],
})
export class ReportsModule {}
