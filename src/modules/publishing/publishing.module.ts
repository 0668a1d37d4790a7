import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from 'src/modules/audit/audit.module';
import { ChannelsModule } from 'src/modules/channels/channels.module';
import { MediaModule } from 'src/modules/media/media.module';
import { PostsModule } from 'src/modules/posts/posts.module';
import { AdapterRegistry } from 'src/modules/publishing/adapters/adapter-registry';
import { ExecutorRef } from 'src/modules/publishing/executor';
import { Outbox } from 'src/modules/publishing/outbox.service';
import { Publication } from 'src/modules/publishing/publication.entity';
import { PublicationStore } from 'src/modules/publishing/publication-store';
import { PublicationsService } from 'src/modules/publishing/publications.service';
import { PublisherService } from 'src/modules/publishing/publisher.service';
import { SiteService } from 'src/modules/publishing/site.service';

/**
 * The outbox and its publisher. Other modules reach it through `Outbox`
 * (enqueue on approval, stop on retraction) and the read services; what
 * executes the outbox is `PublishingExecutionModule`, which only the API and
 * worker roots import.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([Publication]),
    AuditModule,
    ChannelsModule,
    MediaModule,
    PostsModule,
  ],
  providers: [
    AdapterRegistry,
    ExecutorRef,
    Outbox,
    PublicationStore,
    PublicationsService,
    PublisherService,
    SiteService,
  ],
  exports: [ExecutorRef, Outbox, PublicationsService, PublisherService, SiteService],
})
export class PublishingModule {}
