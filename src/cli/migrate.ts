import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { AppConfig } from 'src/config/app-config';
import { ConfigError } from 'src/config/environment';
import { dataSourceOptions } from 'src/database/data-source-options';

/** `npm run migration:run`: applies pending migrations to DATABASE_URL and exits. */
async function main(): Promise<void> {
  const config = AppConfig.fromEnv();
  const ds = new DataSource(dataSourceOptions(config.database));
  await ds.initialize();
  try {
    const applied = await ds.runMigrations();
    process.stdout.write(
      applied.length
        ? `Applied ${applied.map((m) => m.name).join(', ')}\n`
        : 'Schema is up to date\n',
    );
  } finally {
    await ds.destroy();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(
    `${e instanceof ConfigError ? 'Configuration error' : 'Migration failed'}: ${e instanceof Error ? e.message : String(e)}\n`,
  );
  process.exit(1);
});
