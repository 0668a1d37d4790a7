import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Module, Provider } from '@nestjs/common';
import { AppConfig } from 'src/config/app-config';
import { ChannelsModule } from 'src/modules/channels/channels.module';
import { AdapterRegistry } from 'src/modules/publishing/adapters/adapter-registry';
import { BullmqExecutor, PublicationsProcessor } from 'src/modules/publishing/bullmq.executor';
import { PublicationExecutor, PUBLICATIONS_QUEUE } from 'src/modules/publishing/executor';
import { InProcessExecutor } from 'src/modules/publishing/in-process.executor';
import { PublicationsController } from 'src/modules/publishing/publications.controller';
import { PublicationsService } from 'src/modules/publishing/publications.service';
import { PublisherService } from 'src/modules/publishing/publisher.service';
import { SiteController } from 'src/modules/publishing/site.controller';
import { SiteService } from 'src/modules/publishing/site.service';

export interface PublishingOptions {
  /** Run the BullMQ worker in this process (the API by default; always in `npm run start:worker`). */
  worker: boolean;
}

/**
 * The outbox and what executes it: BullMQ when REDIS_URL is set, the in-process
 * executor otherwise. Either way the publication table is the record.
 */
@Module({})
export class PublishingModule {
  static forRoot(config: AppConfig, opts: PublishingOptions): DynamicModule {
    const common: Provider[] = [
      AdapterRegistry,
      PublisherService,
      PublicationsService,
      SiteService,
    ];
    if (!config.redisUrl) {
      return {
        module: PublishingModule,
        global: true,
        imports: [ChannelsModule],
        controllers: [PublicationsController, SiteController],
        providers: [
          ...common,
          InProcessExecutor,
          { provide: PublicationExecutor, useExisting: InProcessExecutor },
        ],
        exports: [PublicationExecutor, PublisherService],
      };
    }
    const redis = new URL(config.redisUrl);
    const connection = {
      host: redis.hostname,
      port: Number(redis.port || 6379),
      username: redis.username || undefined,
      password: redis.password ? decodeURIComponent(redis.password) : undefined,
      db: redis.pathname.length > 1 ? Number(redis.pathname.slice(1)) : 0,
      tls: redis.protocol === 'rediss:' ? {} : undefined,
    };
    return {
      module: PublishingModule,
      global: true,
      imports: [
        ChannelsModule,
        BullModule.forRoot({ connection, prefix: config.publishing.queuePrefix }),
        // The producer fails fast while Redis is down; the relay simply tries again.
        BullModule.registerQueue({
          name: PUBLICATIONS_QUEUE,
          connection: { ...connection, enableOfflineQueue: false },
        }),
      ],
      controllers: [PublicationsController, SiteController],
      providers: [
        ...common,
        BullmqExecutor,
        { provide: PublicationExecutor, useExisting: BullmqExecutor },
        ...(opts.worker ? [PublicationsProcessor] : []),
      ],
      exports: [PublicationExecutor, PublisherService],
    };
  }
}
