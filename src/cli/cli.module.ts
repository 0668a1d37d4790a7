import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig } from 'src/config/app-config';
import { ConfigModule } from 'src/config/config.module';
import { DatabaseModule } from 'src/database/database.module';
import { AuditModule } from 'src/modules/audit/audit.module';
import { UsersModule } from 'src/modules/users/users.module';

/**
 * The CLI root (admin:create, audit:verify, migration:run): the database (whose
 * start-up applies migrations), the audit chain and users. It imports nothing
 * that starts an executor or a timer.
 */
@Module({})
export class CliModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: CliModule,
      imports: [ConfigModule.forRoot(config), DatabaseModule, AuditModule, UsersModule],
    };
  }
}
