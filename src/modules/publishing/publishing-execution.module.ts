import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig } from 'src/config/app-config';
import { BullmqExecutor, PublicationsProcessor } from 'src/modules/publishing/bullmq.executor';
import { InProcessExecutor } from 'src/modules/publishing/in-process.executor';
import { PublishingModule } from 'src/modules/publishing/publishing.module';

export interface ExecutionOptions {
  /** Run the BullMQ worker in this process (the API by default; always in `npm run start:worker`). */
  worker: boolean;
}

/**
 * What executes the outbox: BullMQ when REDIS_URL is set, the in-process
 * executor otherwise. Either way the publication table is the record. Only the
 * API and worker roots import this; the CLI never does, so it never delivers.
 */
@Module({})
export class PublishingExecutionModule {
  static forRoot(config: AppConfig, opts: ExecutionOptions): DynamicModule {
    if (!config.redisUrl) {
      return {
        module: PublishingExecutionModule,
        imports: [PublishingModule],
        providers: [InProcessExecutor],
      };
    }
    // With Redis and PUBLISH_WORKERS_IN_API=false the API neither relays nor delivers: the
    // outbox rows wait for `npm run start:worker`, and approvals compete with nothing.
    if (!opts.worker) return { module: PublishingExecutionModule, imports: [PublishingModule] };
    // The relay's producer fails fast while Redis is down and the worker has its own waiting
    // connection: both are built in bullmq.executor.ts, not by @nestjs/bullmq, which would
    // give the Worker the queue's (fail-fast) connection options.
    return {
      module: PublishingExecutionModule,
      imports: [PublishingModule],
      providers: [BullmqExecutor, PublicationsProcessor],
    };
  }
}
