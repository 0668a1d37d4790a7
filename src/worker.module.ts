import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { loggerModuleParams } from 'src/common/logging';
import { AppConfig } from 'src/config/app-config';
import { ConfigModule } from 'src/config/config.module';
import { DatabaseModule } from 'src/database/database.module';
import { PublishingExecutionModule } from 'src/modules/publishing/publishing-execution.module';

/** The worker root: publishing execution only; no controllers, no HTTP. */
@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot(loggerModuleParams(config)),
        DatabaseModule,
        PublishingExecutionModule.forRoot(config, { worker: true }),
      ],
    };
  }
}
