import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { AppConfig } from 'src/config/app-config';
import { ConfigModule } from 'src/config/config.module';
import { loggerModuleParams } from 'src/common/logging';
import { DatabaseModule } from 'src/database/database.module';
import { DemoSeedService } from 'src/database/demo-seed.service';
import { AuditModule } from 'src/modules/audit/audit.module';
import { AuthModule } from 'src/modules/auth/auth.module';
import { ChannelsModule } from 'src/modules/channels/channels.module';
import { DepartmentsModule } from 'src/modules/departments/departments.module';
import { HealthModule } from 'src/modules/health/health.module';
import { PostsModule } from 'src/modules/posts/posts.module';
import { PublishingModule } from 'src/modules/publishing/publishing.module';
import { ReportsModule } from 'src/modules/reports/reports.module';
import { ReviewModule } from 'src/modules/review/review.module';
import { ScreeningModule } from 'src/modules/screening/screening.module';
import { UsersModule } from 'src/modules/users/users.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, opts: { worker?: boolean } = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot(loggerModuleParams(config)),
        DatabaseModule,
        AuditModule,
        AuthModule,
        DepartmentsModule,
        UsersModule,
        ChannelsModule,
        HealthModule,
        PostsModule,
        PublishingModule.forRoot(config, { worker: opts.worker ?? config.publishing.workersInApi }),
        ReviewModule,
        ReportsModule,
        ScreeningModule,
      ],
      providers: [DemoSeedService],
    };
  }
}
