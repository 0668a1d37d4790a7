import type { OutboundFetcher } from 'src/common/outbound-fetch';
import {
  AdapterContext,
  AdapterResult,
  ChannelAdapter,
  PublishContent,
} from 'src/modules/publishing/adapters/channel-adapter';
import { deliverWebhook, webhookSecret } from 'src/modules/publishing/adapters/webhook.adapter';

/**
 * A university web site pulls from the gateway: publishing makes the post appear
 * in the channel's public Atom feed and page (see site.controller.ts). When the
 * channel's config names a `url`, the site is also told by a signed webhook.
 */
export class WebsiteAdapter implements ChannelAdapter {
  readonly platform = 'website' as const;

  constructor(
    private readonly publicBaseUrl: string,
    private readonly outbound: OutboundFetcher,
  ) {}

  async publish(content: PublishContent, ctx: AdapterContext): Promise<AdapterResult> {
    const page = `${this.publicBaseUrl}/sites/${ctx.channel.id}/posts/${content.postId}`;
    if (typeof ctx.channel.config.url === 'string') {
      const pushed = await deliverWebhook(
        this.outbound,
        ctx.channel.config.url,
        webhookSecret(ctx),
        content,
        ctx,
        'publish',
      );
      return {
        kind: 'done',
        externalId: pushed.kind === 'done' ? (pushed.externalId ?? null) : null,
        url: page,
      };
    }
    return { kind: 'done', externalId: content.postId, url: page };
  }

  async retract(content: PublishContent, ctx: AdapterContext): Promise<AdapterResult> {
    if (typeof ctx.channel.config.url === 'string') {
      await deliverWebhook(
        this.outbound,
        ctx.channel.config.url,
        webhookSecret(ctx),
        content,
        ctx,
        'retract',
      );
    }
    return { kind: 'done' };
  }
}
