import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, DataSourceOptions } from 'typeorm';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { AppConfig } from 'src/config/app-config';
import { dataSourceOptions } from 'src/database/data-source-options';
import { installSqliteReadConnection } from 'src/database/sqlite-read-connection';
import { Transactions } from 'src/database/transactions';

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => {
        if (config.database.type === 'sqlite' && config.database.path !== ':memory:') {
          mkdirSync(dirname(config.database.path), { recursive: true });
        }
        // Schema comes only from migrations/, applied here at start-up.
        return {
          ...dataSourceOptions(config.database),
          migrationsRun: true,
          retryAttempts: 0,
          autoLoadEntities: true,
        };
      },
      dataSourceFactory: async (options?: DataSourceOptions) => {
        const dataSource = new DataSource(options!);
        if (dataSource.options.type === 'better-sqlite3') installSqliteReadConnection(dataSource);
        return dataSource;
      },
    }),
  ],
  providers: [Transactions],
  exports: [Transactions],
})
export class DatabaseModule {}
