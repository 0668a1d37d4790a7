import { Module } from '@nestjs/common';
import { PostsModule } from 'src/modules/posts/posts.module';
import { UsersModule } from 'src/modules/users/users.module';
import { RegisterService } from 'src/modules/reports/register.service';
import { ReportExportsService } from 'src/modules/reports/report-exports.service';
import { ReportsService } from 'src/modules/reports/reports.service';

/** Oversight reports: the summary, the streamed exports and the per-post 审核登记表. Read-only: a read model
 * over the other modules' tables, which it never writes. */
@Module({
  imports: [PostsModule, UsersModule],
  providers: [ReportsService, ReportExportsService, RegisterService],
  exports: [ReportsService, ReportExportsService, RegisterService],
})
export class ReportsModule {}
