import { ErrorCode } from 'src/common/error-code';
import type { OutboundError } from 'src/common/outbound-fetch';
import type { Channel, Platform } from 'src/modules/channels/channel.entity';

/** Exactly the approved revision, as every adapter receives it. */
export interface PublishContent {
  postId: string;
  publicationId: string;
  revisionId: string;
  revisionNumber: number;
  contentHash: string;
  title: string;
  summary: string | null;
  /** Sanitised HTML, byte-for-byte the approved revision's. */
  body: string;
  coverImageUrl: string | null;
  channel: { id: string; name: string };
}

export type Operation = 'publish' | 'retract';

export interface AdapterContext {
  channel: Channel;
  /** Decrypted credentials; never log or return them. */
  credentials: Record<string, unknown> | null;
  /** Stable per publication and operation: the same on every retry (receivers de-duplicate on it). */
  deliveryId: string;
  /** 1 for the first attempt of this operation. */
  attempt: number;
  /** What this adapter stored after an earlier attempt (e.g. a WeChat publish_id), or null. */
  state: Record<string, unknown> | null;
  /** Aborted when the attempt's time is up. */
  signal: AbortSignal;
}

export type AdapterResult =
  /** The operation finished on the platform. */
  | { kind: 'done'; externalId?: string | null; url?: string | null }
  /** Accepted, finishing asynchronously: call `poll` after `pollAfterMs` with `state`. */
  | {
      kind: 'pending';
      pollAfterMs: number;
      state: Record<string, unknown>;
      externalId?: string | null;
    };

/**
 * A refusal or failure from the platform. `retryable` ones are tried again with
 * backoff (up to the configured attempts); the rest fail at once with the message.
 */
export class AdapterError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    /** A platform-requested wait (e.g. rate limiting), overriding the backoff. */
    readonly retryAfterMs?: number,
    /** State to keep for the next attempt (e.g. a token or an uploaded media id). */
    readonly state?: Record<string, unknown>,
    /** A stable code for the failure (ErrorCode or a platform's), shown to authors in its place. */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'AdapterError';
  }
}

/**
 * An endpoint the guarded fetcher refused, as a permanent failure: retrying changes nothing
 * until an administrator fixes the channel or lists the host in OUTBOUND_ALLOW_HOSTS.
 * `what` names the caller ("webhook", "WeChat stable_token"); the URL itself stays out, since
 * an endpoint may carry a token in its query.
 */
export function refusedEndpoint(what: string, err: OutboundError): AdapterError {
  const why =
    err.code === ErrorCode.OUTBOUND_ADDRESS_FORBIDDEN
      ? `${err.reason}, an internal address; list the host in OUTBOUND_ALLOW_HOSTS to allow it`
      : err.message.replace(/^The URL/, 'the URL');
  return new AdapterError(
    `${what} endpoint refused: ${why}`,
    false,
    undefined,
    undefined,
    'CHANNEL_MISCONFIGURED',
  );
}

/** A stored image, as the publishers send it: the bytes an approved revision names by digest. */
export interface StoredImageBytes {
  bytes: Buffer;
  mimeType: string;
  filename: string;
  sha256: string;
}

/** Where adapters get the images of a revision: stored bytes only, never a fetch of a URL. */
export interface MediaReader {
  /** The stored image a media URL names, or null when the URL names none. */
  imageFor(url: string): Promise<StoredImageBytes | null>;
}

/** One platform. Each lives in its own file under adapters/ and registers in the registry. */
export interface ChannelAdapter {
  readonly platform: Platform;
  publish(content: PublishContent, ctx: AdapterContext): Promise<AdapterResult>;
  retract(content: PublishContent, ctx: AdapterContext): Promise<AdapterResult>;
  /** For platforms that finish asynchronously; called with the state a `pending` result gave. */
  poll?(content: PublishContent, ctx: AdapterContext, operation: Operation): Promise<AdapterResult>;
}
