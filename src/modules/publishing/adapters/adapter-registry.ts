import { Injectable } from '@nestjs/common';
import { OutboundFetcher } from 'src/common/outbound-fetch';
import { AppConfig } from 'src/config/app-config';
import type { Platform } from 'src/modules/channels/channel.entity';
import { MediaService } from 'src/modules/media/media.service';
import {
  AdapterError,
  AdapterResult,
  ChannelAdapter,
} from 'src/modules/publishing/adapters/channel-adapter';
import { WebhookAdapter } from 'src/modules/publishing/adapters/webhook.adapter';
import { WebsiteAdapter } from 'src/modules/publishing/adapters/website.adapter';
import { WechatMpAdapter } from 'src/modules/publishing/adapters/wechat/wechat-mp.adapter';

/** A platform the gateway does not publish to yet: every attempt fails with that reason. */
class UnsupportedAdapter implements ChannelAdapter {
  constructor(readonly platform: Platform) {}
  publish(): Promise<AdapterResult> {
    return Promise.reject(
      new AdapterError(`publishing to ${this.platform} is not supported yet`, false),
    );
  }
  retract(): Promise<AdapterResult> {
    return this.publish();
  }
}

/** One adapter per platform; the publisher asks here. */
@Injectable()
export class AdapterRegistry {
  private readonly adapters: Map<Platform, ChannelAdapter>;

  constructor(config: AppConfig, media: MediaService) {
    // Channel endpoints are set by administrators, and still checked as any URL from outside.
    const outbound = new OutboundFetcher(config.outbound);
    const list: ChannelAdapter[] = [
      new WebhookAdapter(outbound),
      new WebsiteAdapter(config.publicBaseUrl, outbound),
      new WechatMpAdapter({ baseUrl: config.publishing.wechatBaseUrl, media, outbound }),
      new UnsupportedAdapter('weibo'),
      new UnsupportedAdapter('douyin'),
    ];
    this.adapters = new Map(list.map((a) => [a.platform, a]));
  }

  for(platform: Platform): ChannelAdapter {
    const a = this.adapters.get(platform);
    if (!a) throw new AdapterError(`no adapter for ${platform}`, false);
    return a;
  }
}
