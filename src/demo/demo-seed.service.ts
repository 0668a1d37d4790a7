import { Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { Role } from 'src/common/roles';
import { AppConfig } from 'src/config/app-config';
import { ChannelsService } from 'src/modules/channels/channels.service';
import { DepartmentsService } from 'src/modules/departments/departments.service';
import { UsersService } from 'src/modules/users/users.service';

export const DEMO_USERS = ['admin', 'editor', 'dept_head', 'propaganda', 'auditor'] as const;

export interface SeedResult {
  password: string;
  generated: boolean;
}

/**
 * Demo organisation for an empty embedded database, so the gateway can be tried
 * at once. Never runs on MySQL: no demo data or known password reaches production.
 */
@Injectable()
export class DemoSeedService {
  private readonly logger = new Logger('DemoSeed');

  constructor(
    private readonly config: AppConfig,
    private readonly departments: DepartmentsService,
    private readonly users: UsersService,
    private readonly channels: ChannelsService,
  ) {}

  async seedIfEmpty(): Promise<SeedResult | null> {
    if (!this.config.isEmbedded) return null;
    if ((await this.users.count()) > 0) return null;
    const generated = !this.config.seedDemoPassword;
    const password = this.config.seedDemoPassword ?? randomBytes(9).toString('base64url');

    const prop = await this.departments.create(
      { name: '宣传部', code: 'PROP', isPropaganda: true },
      null,
    );
    const cs = await this.departments.create({ name: '计算机学院', code: 'CS' }, null);
    const sao = await this.departments.create({ name: '学生工作处', code: 'SAO' }, null);

    const people: [string, string, Role[], string][] = [
      ['admin', '系统管理员', [Role.ADMIN], prop.id],
      ['editor', '学生编辑 李明', [Role.EDITOR], cs.id],
      ['dept_head', '计算机学院 王院长', [Role.DEPT_REVIEWER], cs.id],
      ['propaganda', '宣传部 张老师', [Role.PROPAGANDA_REVIEWER], prop.id],
      ['auditor', '宣传部 督查 陈老师', [Role.AUDITOR], prop.id],
    ];
    for (const [username, displayName, roles, departmentId] of people) {
      await this.users.create({ username, displayName, password, roles, departmentId }, null);
    }

    await this.channels.create(
      {
        name: '大学官方微信公众号',
        platform: 'wechat_mp',
        departmentId: prop.id,
        acceptsSubmissions: true,
      },
      null,
    );
    await this.channels.create(
      { name: '大学新闻网', platform: 'website', departmentId: prop.id, acceptsSubmissions: true },
      null,
    );
    await this.channels.create(
      { name: '计算机学院公众号', platform: 'wechat_mp', departmentId: cs.id },
      null,
    );
    await this.channels.create(
      { name: '计算机学院网站', platform: 'website', departmentId: cs.id },
      null,
    );
    await this.channels.create(
      {
        name: '学工处信息推送',
        platform: 'webhook',
        departmentId: sao.id,
        config: { url: 'http://127.0.0.1:9999/sanshen-hook' },
      },
      null,
    );
    this.logger.log('Seeded the demo organisation into the empty embedded database');
    return { password, generated };
  }
}
