import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Module } from '@nestjs/common';
import { producerConnection } from 'src/common/redis-connection';
import { AppConfig } from 'src/config/app-config';
import { BullmqExecutor, PublicationsProcessor } from 'src/modules/publishing/bullmq.executor';
import { PUBLICATIONS_QUEUE } from 'src/modules/publishing/executor';
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
    // The producer fails fast while Redis is down; the relay simply tries again. The worker
    // (PublicationsProcessor) builds its own, waiting connection: never these options.
    const connection = producerConnection(config.redisUrl);
    return {
      module: PublishingExecutionModule,
      imports: [
        PublishingModule,
        BullModule.forRoot({ connection, prefix: config.publishing.queuePrefix }),
        BullModule.registerQueue({ name: PUBLICATIONS_QUEUE, connection }),
      ],
      providers: [BullmqExecutor, ...(opts.worker ? [PublicationsProcessor] : [])],
    };
  }
}
