import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { WorkerModule } from 'src/worker.module';
import { configOrExit } from 'src/config/app-config';

/**
 * `npm run start:worker`: a publishing worker without HTTP, for scaling out
 * across machines. Needs REDIS_URL (BullMQ); run the API with
 * PUBLISH_WORKERS_IN_API=false when all delivery should happen here.
 */
async function main(): Promise<void> {
  const config = configOrExit();
  if (!config.redisUrl) {
    process.stderr.write(
      'Configuration error: REDIS_URL is required for a separate worker process\n',
    );
    process.exit(1);
  }
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config), {
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  await app.init();
  process.stdout.write(`Sanshen publishing worker ${process.pid} is running\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`Worker start-up failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
