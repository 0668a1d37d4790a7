import 'reflect-metadata';
import { configOrExit } from 'src/config/app-config';
import { createApp } from 'src/app.factory';
import { DEMO_USERS, DemoSeedService } from 'src/demo/demo-seed.service';

async function main(): Promise<void> {
  const config = configOrExit();
  const app = await createApp(config);
  const seeded = await app.get(DemoSeedService).seedIfEmpty();
  await app.listen(config.port, config.host);
  const url = (await app.getUrl()).replace('[::1]', 'localhost').replace('127.0.0.1', 'localhost');
  const lines = [
    '',
    `Sanshen Gateway is up (${config.database.type === 'sqlite' ? `embedded SQLite at ${config.database.path}` : 'MySQL'})`,
    `  API:      ${url}/api/v1`,
    `  OpenAPI:  ${url}/api/docs`,
    `  Health:   ${url}/health`,
  ];
  if (seeded) {
    lines.push(
      `  Demo users: ${DEMO_USERS.join(', ')}`,
      `  Password:   ${seeded.password}${seeded.generated ? '   (random; set SEED_DEMO_PASSWORD to choose one)' : ''}`,
    );
  } else if (config.isEmbedded) {
    lines.push(
      `  Demo users: ${DEMO_USERS.join(', ')} (seeded on first start; password as printed then)`,
    );
  }
  process.stdout.write(lines.join('\n') + '\n\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`Start-up failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
