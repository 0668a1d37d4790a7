import { createHmac } from 'node:crypto';
import { Answer, OutboundError, OutboundFetcher } from 'src/common/outbound-fetch';
import {
  AdapterContext,
  AdapterError,
  AdapterResult,
  ChannelAdapter,
  Operation,
  PublishContent,
  refusedEndpoint,
} from 'src/modules/publishing/adapters/channel-adapter';

export const WEBHOOK_EVENTS: Record<Operation, string> = {
  publish: 'post.published',
  retract: 'post.retracted',
};

/**
 * Standard Webhooks signature: `v1,` + base64 HMAC-SHA256 over `id.timestamp.body`,
 * keyed with the base64 part of the channel's `whsec_` secret.
 */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
  const mac = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return `v1,${mac}`;
}

export function webhookPayload(content: PublishContent, operation: Operation, now: Date): string {
  return JSON.stringify({
    type: WEBHOOK_EVENTS[operation],
    timestamp: now.toISOString(),
    data: {
      postId: content.postId,
      publicationId: content.publicationId,
      revisionNumber: content.revisionNumber,
      contentHash: content.contentHash,
      title: content.title,
      summary: content.summary,
      body: content.body,
      coverImageUrl: content.coverImageUrl,
      channel: content.channel,
    },
  });
}

/** Enough of a receiver's answer for its `{externalId, url}` and an error's first words. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** POST to a URL, signed; a 2xx answer is success and may name `{externalId, url}`. */
export async function deliverWebhook(
  outbound: OutboundFetcher,
  url: string,
  secret: string,
  content: PublishContent,
  ctx: AdapterContext,
  operation: Operation,
): Promise<AdapterResult> {
  const now = new Date();
  const body = webhookPayload(content, operation, now);
  const timestamp = Math.floor(now.getTime() / 1000);
  let res: Answer;
  try {
    res = await outbound.request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Sanshen-Gateway',
        'webhook-id': ctx.deliveryId,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signWebhook(secret, ctx.deliveryId, timestamp, body),
        'x-sanshen-event': WEBHOOK_EVENTS[operation],
      },
      body,
      signal: ctx.signal,
      maxBytes: MAX_ANSWER_BYTES,
    });
  } catch (e) {
    if (e instanceof OutboundError && !e.retryable) throw refusedEndpoint('webhook', e);
    const why = ctx.signal.aborted
      ? 'timed out'
      : e instanceof OutboundError
        ? `failed: ${e.reason}`
        : e instanceof Error
          ? e.message
          : String(e);
    throw new AdapterError(`webhook ${why}`, true);
  }
  const text = res.text;
  if (res.status < 200 || res.status >= 300) {
    throw new AdapterError(
      `webhook answered HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`,
      true,
    );
  }
  let externalId: string | null = null;
  let link: string | null = null;
  try {
    const json = JSON.parse(text) as { externalId?: unknown; url?: unknown };
    if (typeof json.externalId === 'string') externalId = json.externalId.slice(0, 255);
    if (typeof json.url === 'string' && /^https?:\/\//.test(json.url))
      link = json.url.slice(0, 1024);
  } catch {
    // A 2xx without JSON is still success.
  }
  return { kind: 'done', externalId, url: link };
}

export function webhookSecret(ctx: AdapterContext): string {
  const secret = ctx.credentials?.secret;
  if (typeof secret !== 'string' || !secret)
    throw new AdapterError('the channel has no webhook secret', false);
  return secret;
}

export class WebhookAdapter implements ChannelAdapter {
  readonly platform = 'webhook' as const;

  constructor(private readonly outbound: OutboundFetcher) {}

  publish(content: PublishContent, ctx: AdapterContext): Promise<AdapterResult> {
    return deliverWebhook(
      this.outbound,
      this.url(ctx),
      webhookSecret(ctx),
      content,
      ctx,
      'publish',
    );
  }

  retract(content: PublishContent, ctx: AdapterContext): Promise<AdapterResult> {
    return deliverWebhook(
      this.outbound,
      this.url(ctx),
      webhookSecret(ctx),
      content,
      ctx,
      'retract',
    );
  }

  private url(ctx: AdapterContext): string {
    const url = ctx.channel.config.url;
    if (typeof url !== 'string') throw new AdapterError('the channel has no webhook url', false);
    return url;
  }
}
