import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { loggerModuleParams } from 'src/common/logging';
import { AppConfig } from 'src/config/app-config';
import { ConfigModule } from 'src/config/config.module';
import { DatabaseModule } from 'src/database/database.module';
import { DemoModule } from 'src/demo/demo.module';
import { AuditController } from 'src/modules/audit/audit.controller';
import { AuditModule } from 'src/modules/audit/audit.module';
import { CheckpointScheduler } from 'src/modules/audit/checkpoint.service';
import { AuthController } from 'src/modules/auth/auth.controller';
import { AuthModule } from 'src/modules/auth/auth.module';
import { ChannelsController } from 'src/modules/channels/channels.controller';
import { ChannelsModule } from 'src/modules/channels/channels.module';
import { DepartmentsController } from 'src/modules/departments/departments.controller';
import { DepartmentsModule } from 'src/modules/departments/departments.module';
import { HealthController } from 'src/modules/health/health.controller';
import { HealthModule } from 'src/modules/health/health.module';
import { MediaController, MediaFilesController } from 'src/modules/media/media.controller';
import { MediaModule } from 'src/modules/media/media.module';
import { PostsModule } from 'src/modules/posts/posts.module';
import { PublicationsController } from 'src/modules/publishing/publications.controller';
import { PublishingExecutionModule } from 'src/modules/publishing/publishing-execution.module';
import { PublishingModule } from 'src/modules/publishing/publishing.module';
import { SiteController } from 'src/modules/publishing/site.controller';
import { ReportsController } from 'src/modules/reports/reports.controller';
import { ReportsModule } from 'src/modules/reports/reports.module';
import { PostsController } from 'src/modules/review/posts.controller';
import { ReviewController } from 'src/modules/review/review.controller';
import { ReviewModule } from 'src/modules/review/review.module';
import { ScreeningController } from 'src/modules/screening/screening.controller';
import { ScreeningModule } from 'src/modules/screening/screening.module';
import { UsersController } from 'src/modules/users/users.controller';
import { UsersModule } from 'src/modules/users/users.module';

/**
 * The API root: every capability's module, the HTTP surface (all controllers
 * are registered here, none in the feature modules, so the worker and CLI roots
 * carry no routes), periodic checkpoints, the demo seed, and publishing
 * execution when configured (PUBLISH_WORKERS_IN_API).
 */
@Module({})
export class ApiModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot(loggerModuleParams(config)),
        DatabaseModule,
        AuditModule,
        AuthModule,
        DepartmentsModule,
        UsersModule,
        ChannelsModule,
        ScreeningModule,
        MediaModule,
        PostsModule,
        PublishingModule,
        PublishingExecutionModule.forRoot(config, { worker: config.publishing.workersInApi }),
        ReviewModule,
        ReportsModule,
        HealthModule,
        DemoModule,
      ],
      controllers: [
        AuthController,
        DepartmentsController,
        UsersController,
        ChannelsController,
        AuditController,
        ScreeningController,
        MediaController,
        MediaFilesController,
        PostsController,
        ReviewController,
        PublicationsController,
        SiteController,
        ReportsController,
        HealthController,
      ],
      providers: [CheckpointScheduler],
    };
  }
}
