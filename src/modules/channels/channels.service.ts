import { Injectable } from '@nestjs/common';
import { likeContains } from 'src/common/like';
import { InjectRepository } from '@nestjs/typeorm';
import { randomBytes, randomUUID } from 'node:crypto';
import { EntityManager, In, Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { AppException } from 'src/common/app.exception';
import type { AuthUser } from 'src/common/auth-user';
import { diffFields } from 'src/common/diff-fields';
import { ErrorCode } from 'src/common/error-code';
import { Page, pageWindow } from 'src/common/paging';
import { Transactions } from 'src/database/transactions';
import { AuditService } from 'src/modules/audit/audit.service';
import { Channel, Platform } from 'src/modules/channels/channel.entity';
import { CredentialsCipher } from 'src/modules/channels/credentials-cipher';
import {
  CreateChannelDto,
  ListChannelsQuery,
  UpdateChannelDto,
} from 'src/modules/channels/dto/channel.dto';
import { DepartmentsService } from 'src/modules/departments/departments.service';

/** A channel as the API shows it: credentials replaced by whether there are any. */
export type ChannelView = Omit<Channel, 'credentials'> & { hasCredentials: boolean };

export function toChannelView(c: Channel): ChannelView {
  const { credentials, ...rest } = c;
  return { ...rest, hasCredentials: !!credentials };
}

const MAX_CONFIG_BYTES = 16 * 1024;

function fieldError(field: string, message: string): AppException {
  return new AppException(ErrorCode.VALIDATION_FAILED, `Invalid input: ${field}`, [
    { field, errors: [message] },
  ]);
}

function isHttpUrl(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/** Checks what each platform needs; returns the credentials to store (a webhook secret is generated). */
export function checkPlatformSettings(
  platform: Platform,
  config: Record<string, unknown>,
  credentials: Record<string, unknown> | undefined,
  creating: boolean,
): { credentials?: Record<string, unknown>; generatedSecret?: string } {
  if (Buffer.byteLength(JSON.stringify(config)) > MAX_CONFIG_BYTES)
    throw fieldError('config', 'config is too large');
  if (config.baseUrl !== undefined && !isHttpUrl(config.baseUrl)) {
    throw fieldError('config.baseUrl', 'baseUrl must be an http(s) URL');
  }
  switch (platform) {
    case 'webhook': {
      if (!isHttpUrl(config.url))
        throw fieldError('config.url', 'a webhook channel needs an http(s) url');
      if (credentials?.secret !== undefined) {
        if (
          typeof credentials.secret !== 'string' ||
          !/^whsec_[A-Za-z0-9+/]{16,}={0,2}$/.test(credentials.secret)
        ) {
          throw fieldError(
            'credentials.secret',
            'secret must be whsec_<base64> of at least 12 bytes',
          );
        }
        return { credentials };
      }
      if (creating) {
        const secret = `whsec_${randomBytes(24).toString('base64')}`;
        return { credentials: { ...(credentials ?? {}), secret }, generatedSecret: secret };
      }
      return { credentials };
    }
    case 'wechat_mp': {
      if (credentials !== undefined) {
        for (const f of ['appId', 'appSecret']) {
          if (typeof credentials[f] !== 'string' || !(credentials[f] as string).length) {
            throw fieldError(`credentials.${f}`, `a WeChat account needs ${f}`);
          }
        }
      }
      return { credentials };
    }
    case 'website':
    case 'weibo':
    case 'douyin':
      return { credentials };
    default: {
      const never: never = platform;
      throw fieldError('platform', `unknown platform ${String(never)}`);
    }
  }
}

/**
 * Config keys naming a host that credentials are sent to: the webhook (and site
 * push) `url`, the WeChat API `baseUrl`. A new key is added here when an adapter
 * sends secrets somewhere else the config names.
 */
export const ENDPOINT_KEYS = ['url', 'baseUrl'] as const;

/** Which endpoint keys a config change sets, changes or removes. */
export function endpointChanges(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): string[] {
  return ENDPOINT_KEYS.filter((k) => normalEndpoint(before[k]) !== normalEndpoint(after[k]));
}

function normalEndpoint(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') return JSON.stringify(v);
  try {
    return new URL(v).href.replace(/\/+$/, '');
  } catch {
    return v;
  }
}

export interface ChannelRef {
  id: string;
  name: string;
  platform: Platform;
  departmentId: string;
}

const REFS_CACHE_MS = 5_000;

@Injectable()
export class ChannelsService {
  constructor(
    @InjectRepository(Channel) private readonly channels: Repository<Channel>,
    private readonly tx: Transactions,
    private readonly audit: AuditService,
    private readonly cipher: CredentialsCipher,
    private readonly departments: DepartmentsService,
  ) {}

  async list(q: ListChannelsQuery): Promise<Page<ChannelView>> {
    const { skip, take, page, pageSize } = pageWindow(q);
    const qb = this.channels
      .createQueryBuilder('c')
      .addSelect('c.credentials')
      .orderBy('c.name', 'ASC')
      .skip(skip)
      .take(take);
    if (q.q) qb.andWhere("c.name LIKE :q ESCAPE '!'", { q: likeContains(q.q) });
    if (q.departmentId) qb.andWhere('c.departmentId = :d', { d: q.departmentId });
    if (q.platform) qb.andWhere('c.platform = :p', { p: q.platform });
    if (q.active !== undefined) qb.andWhere('c.active = :a', { a: q.active });
    if (q.acceptsSubmissions !== undefined)
      qb.andWhere('c.acceptsSubmissions = :s', { s: q.acceptsSubmissions });
    const [items, total] = await qb.getManyAndCount();
    return { items: items.map(toChannelView), total, page, pageSize };
  }

  async get(id: string): Promise<ChannelView> {
    const c = await this.channels
      .createQueryBuilder('c')
      .addSelect('c.credentials')
      .where('c.id = :id', { id })
      .getOne();
    if (!c) throw AppException.notFound('Channel', id);
    return toChannelView(c);
  }

  /** Channels by id, as stored (no credentials), inside the caller's transaction or not. */
  findByIds(m: EntityManager, ids: readonly string[]): Promise<Channel[]> {
    if (!ids.length) return Promise.resolve([]);
    return m.findBy(Channel, { id: In([...ids]) });
  }

  /** One channel as stored (no credentials), or null. */
  findById(id: string): Promise<Channel | null> {
    return this.channels.findOneBy({ id });
  }

  /**
   * What a post's view shows of its channels, by name. Kept REFS_CACHE_MS: every
   * view needs them and they rarely change; a change shows at once in this
   * process, in another within that time. Decisions never use this (they read
   * `findByIds`).
   */
  async refsByIds(ids: readonly string[]): Promise<ChannelRef[]> {
    const now = Date.now();
    const missing = ids.filter((id) => !((this.refs.get(id)?.until ?? 0) > now));
    if (missing.length) {
      const rows = await this.findByIds(this.channels.manager, missing);
      if (this.refs.size > 10_000) this.refs.clear();
      for (const c of rows) {
        const ref = { id: c.id, name: c.name, platform: c.platform, departmentId: c.departmentId };
        this.refs.set(c.id, { ref, until: now + REFS_CACHE_MS });
      }
    }
    return ids
      .map((id) => this.refs.get(id)?.ref)
      .filter((r): r is ChannelRef => !!r)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  private readonly refs = new Map<string, { ref: ChannelRef; until: number }>();

  /** For publishing adapters only: the decrypted secrets. Never send the result to a client. */
  async credentialsOf(id: string): Promise<Record<string, unknown> | null> {
    const c = await this.channels
      .createQueryBuilder('c')
      .addSelect('c.credentials')
      .where('c.id = :id', { id })
      .getOne();
    if (!c) throw AppException.notFound('Channel', id);
    return c.credentials ? this.cipher.decrypt(c.id, c.credentials) : null;
  }

  async create(
    dto: CreateChannelDto,
    actor: AuthUser | null,
  ): Promise<ChannelView & { generatedSecret?: string }> {
    const config = dto.config ?? {};
    const checked = checkPlatformSettings(dto.platform, config, dto.credentials, true);
    return this.tx.run(async (m) => {
      await this.assertDepartment(m, dto.departmentId);
      const now = new Date();
      const id = randomUUID();
      const c = m.create(Channel, {
        id,
        name: dto.name,
        platform: dto.platform,
        departmentId: dto.departmentId,
        acceptsSubmissions: dto.acceptsSubmissions ?? false,
        active: true,
        config,
        credentials: checked.credentials ? this.cipher.encrypt(id, checked.credentials) : null,
        createdAt: now,
        updatedAt: now,
      });
      await m.insert(Channel, c as QueryDeepPartialEntity<Channel>);
      await this.audit.record(m, {
        action: 'channel.created',
        entityType: 'channel',
        entityId: id,
        actor,
        details: {
          name: c.name,
          platform: c.platform,
          departmentId: c.departmentId,
          acceptsSubmissions: c.acceptsSubmissions,
          config,
          hasCredentials: !!c.credentials,
        },
      });
      const view = toChannelView(c);
      // The generated webhook secret is shown this once; afterwards only the receiver holds it.
      return checked.generatedSecret ? { ...view, generatedSecret: checked.generatedSecret } : view;
    });
  }

  async update(
    id: string,
    dto: UpdateChannelDto,
    actor: AuthUser,
  ): Promise<ChannelView & { generatedSecret?: string }> {
    try {
      return await this.applyUpdate(id, dto, actor);
    } finally {
      this.refs.delete(id);
    }
  }

  private applyUpdate(
    id: string,
    dto: UpdateChannelDto,
    actor: AuthUser,
  ): Promise<ChannelView & { generatedSecret?: string }> {
    return this.tx.run(async (m) => {
      const c = await m
        .getRepository(Channel)
        .createQueryBuilder('c')
        .addSelect('c.credentials')
        .where('c.id = :id', { id })
        .getOne();
      if (!c) throw AppException.notFound('Channel', id);
      if (dto.departmentId && dto.departmentId !== c.departmentId)
        await this.assertDepartment(m, dto.departmentId);
      const { credentials, ...fields } = dto;
      const moved = fields.config ? endpointChanges(c.config, fields.config) : [];
      if (moved.length && c.credentials && credentials === undefined) {
        throw new AppException(
          ErrorCode.CREDENTIALS_REQUIRED,
          `Changing ${moved.join(', ')} needs the credentials in the same request: the stored ones are never sent to a new address`,
          { fields: moved.map((k) => `config.${k}`) },
        );
      }
      const checked = checkPlatformSettings(
        c.platform,
        fields.config ?? c.config,
        credentials,
        false,
      );
      const changes = diffFields(c, fields, [
        'name',
        'departmentId',
        'acceptsSubmissions',
        'config',
        'active',
      ]);
      if (Object.keys(changes).length === 0 && credentials === undefined) return toChannelView(c);
      const patch: Partial<Channel> = { ...fields, updatedAt: new Date() };
      let generatedSecret: string | undefined;
      if (credentials !== undefined) {
        let next = checked.credentials ?? credentials;
        // A webhook's signing secret survives a credentials change that does not name a new
        // one, unless the endpoint moved: then nothing stored goes with it.
        if (
          c.platform === 'webhook' &&
          next.secret === undefined &&
          c.credentials &&
          !moved.length
        ) {
          next = { ...next, secret: this.cipher.decrypt(id, c.credentials).secret };
        }
        if (c.platform === 'webhook' && next.secret === undefined) {
          generatedSecret = `whsec_${randomBytes(24).toString('base64')}`;
          next = { ...next, secret: generatedSecret };
        }
        patch.credentials = this.cipher.encrypt(id, next);
      }
      await m.update(Channel, { id }, patch as QueryDeepPartialEntity<Channel>);
      Object.assign(c, patch);
      const { active, ...otherChanges } = changes;
      if (Object.keys(otherChanges).length > 0) {
        await this.audit.record(m, {
          action: 'channel.updated',
          entityType: 'channel',
          entityId: id,
          actor,
          details: { changes: otherChanges },
        });
      }
      if (credentials !== undefined) {
        // Which keys changed, never their values.
        await this.audit.record(m, {
          action: 'channel.credentials_changed',
          entityType: 'channel',
          entityId: id,
          actor,
          details: {
            keys: Object.keys(credentials).sort(),
            ...(moved.length ? { endpointChanged: moved.map((k) => `config.${k}`) } : {}),
            ...(generatedSecret ? { secretGenerated: true } : {}),
          },
        });
      }
      if (active) {
        await this.audit.record(m, {
          action: c.active ? 'channel.activated' : 'channel.deactivated',
          entityType: 'channel',
          entityId: id,
          actor,
        });
      }
      const view = toChannelView(c);
      // A new webhook secret is shown this once, as at creation.
      return generatedSecret ? { ...view, generatedSecret } : view;
    });
  }

  deactivate(id: string, actor: AuthUser): Promise<ChannelView> {
    return this.update(id, { active: false }, actor);
  }

  private assertDepartment(m: EntityManager, departmentId: string): Promise<void> {
    return this.departments.assertUsable(m, departmentId);
  }
}
