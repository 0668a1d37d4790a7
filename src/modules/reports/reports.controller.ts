import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import type { AuthUser } from 'src/common/auth-user';
import { CurrentUser, Roles } from 'src/common/decorators';
import { Role } from 'src/common/roles';
import {
  AuditEventsExportQuery,
  PublicationsExportQuery,
  SummaryQuery,
} from 'src/modules/reports/dto/report.query';
import { RegisterService } from 'src/modules/reports/register.service';
import {
  AUDIT_EVENT_COLUMNS,
  PUBLICATION_COLUMNS,
  ReportExportsService,
  SUMMARY_COLUMNS,
  summaryRows,
} from 'src/modules/reports/report-exports.service';
import { ReportsService } from 'src/modules/reports/reports.service';
import { sendTable } from 'src/modules/reports/table-stream';

const SPREADSHEETS = [
  'text/csv',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
];

/** A UTC time stamp for file names: 20261121-083000. */
const stamp = () => new Date().toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');

@ApiTags('reports')
@ApiBearerAuth()
@Roles(Role.AUDITOR, Role.PROPAGANDA_REVIEWER)
@Controller('reports')
export class ReportsController {
  constructor(
    private readonly reports: ReportsService,
    private readonly exports: ReportExportsService,
    private readonly register: RegisterService,
  ) {}

  @Get('summary')
  @ApiProduces('application/json', ...SPREADSHEETS)
  async summary(@Query() q: SummaryQuery, @Res() res: Response): Promise<void> {
    const summary = await this.reports.summary(q);
    if (!q.format || q.format === 'json') {
      res.json(summary);
      return;
    }
    await sendTable(res, {
      format: q.format,
      filename: `sanshen-summary-${stamp()}`,
      sheetName: '统计汇总',
      header: SUMMARY_COLUMNS,
      pages: [summaryRows(summary)],
    });
  }

  @Get('publications')
  @ApiProduces(...SPREADSHEETS)
  publications(@Query() q: PublicationsExportQuery, @Res() res: Response): Promise<void> {
    return sendTable(res, {
      format: q.format ?? 'csv',
      filename: `sanshen-publications-${stamp()}`,
      sheetName: '发布记录',
      header: PUBLICATION_COLUMNS,
      pages: this.exports.publicationPages(q),
    });
  }

  @Get('audit-events')
  @ApiProduces(...SPREADSHEETS)
  auditEvents(@Query() q: AuditEventsExportQuery, @Res() res: Response): Promise<void> {
    return sendTable(res, {
      format: q.format ?? 'csv',
      filename: `sanshen-audit-events-${stamp()}`,
      sheetName: '审计日志',
      header: AUDIT_EVENT_COLUMNS,
      pages: this.exports.auditEventPages(q),
    });
  }

  /** The post's printable 审核登记表 (A4). */
  @Get('posts/:id/register')
  @ApiProduces('text/html')
  async postRegister(
    @Param('id') id: string,
    @CurrentUser() user: AuthUser,
    @Res({ passthrough: true }) res: Response,
  ): Promise<string> {
    const html = await this.register.html(id, user);
    // Set only on success: a refusal keeps its JSON body and type.
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    return html;
  }
}
