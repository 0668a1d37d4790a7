import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, IsNull } from 'typeorm';
import { AppException } from 'src/common/app.exception';
import type { AuthUser } from 'src/common/auth-user';
import { ErrorCode } from 'src/common/error-code';
import { currentRequestContext } from 'src/common/request-context';
import { AppConfig } from 'src/config/app-config';
import { Transactions } from 'src/database/transactions';
import { AuditService } from 'src/modules/audit/audit.service';
import { LoginThrottle } from 'src/modules/auth/login-throttle';
import { verifyPassword } from 'src/modules/users/passwords';
import { RefreshToken, Session } from 'src/modules/auth/session.entity';
import type { User } from 'src/modules/users/user.entity';
import { UsersService } from 'src/modules/users/users.service';

export interface AccessTokenPayload {
  sub: string;
  sid: string;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

export interface UserSummary {
  id: string;
  username: string;
  displayName: string;
  roles: string[];
  departmentId: string;
}

function summary(
  u: Pick<User, 'id' | 'username' | 'displayName' | 'roles' | 'departmentId'>,
): UserSummary {
  return {
    id: u.id,
    username: u.username,
    displayName: u.displayName,
    roles: u.roles,
    departmentId: u.departmentId,
  };
}

/** A session is live until revoked, expired, or begun before its user's sessions were ended. */
function sessionLive(session: Session, user: User): boolean {
  if (!user.active || session.revokedAt || session.expiresAt.getTime() <= Date.now()) return false;
  return !user.sessionsValidFrom || session.createdAt >= user.sessionsValidFrom;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

function invalidRefresh(): AppException {
  return new AppException(
    ErrorCode.INVALID_REFRESH_TOKEN,
    'Refresh token is invalid, expired or already used',
  );
}

@Injectable()
export class AuthService implements OnModuleDestroy {
  private readonly throttle: LoginThrottle;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly tx: Transactions,
    private readonly audit: AuditService,
    private readonly jwt: JwtService,
    private readonly config: AppConfig,
    private readonly users: UsersService,
  ) {
    this.throttle = new LoginThrottle(config.login, {
      redisUrl: config.redisUrl,
      keyPrefix: config.publishing.queuePrefix,
    });
    // A change of a user (roles, active, password) is seen by this process's next request.
    users.onChange((userId) => this.forgetUser(userId));
  }

  /** Resolved callers by session id, for a short while: see `resolve`. */
  private readonly resolved = new Map<string, { user: AuthUser; userId: string; until: number }>();

  /** Checks a username and password (the local strategy calls this). Failures are throttled and audited. */
  async validateCredentials(given: unknown, password: unknown): Promise<User> {
    // Passport reads the body before any pipe: the DTO's bounds are checked here.
    if (
      typeof given !== 'string' ||
      typeof password !== 'string' ||
      given.length > 64 ||
      password.length > 200
    ) {
      throw new AppException(ErrorCode.VALIDATION_FAILED, 'Invalid input: username, password', [
        { field: 'username', errors: ['username and password must be strings of bounded length'] },
      ]);
    }
    const username = given.trim().toLowerCase();
    const ip = currentRequestContext()?.ip ?? null;
    let reservation;
    try {
      // Counted before the slow verify: concurrent attempts cannot all pass the check.
      reservation = await this.throttle.reserve(username, ip);
    } catch (refusal) {
      await this.recordFailure(username, null, 'throttled');
      throw refusal;
    }
    const user = await this.users.findForSignIn(username);
    const ok = await verifyPassword(user?.passwordHash, password);
    if (!user || !ok || !user.active) {
      await this.recordFailure(
        username,
        user?.id ?? null,
        !user ? 'unknown_user' : !ok ? 'wrong_password' : 'inactive_user',
      );
      throw new AppException(ErrorCode.INVALID_CREDENTIALS, 'Username or password is wrong');
    }
    await this.throttle.succeeded(reservation);
    return user;
  }

  onModuleDestroy(): Promise<void> {
    return this.throttle.close();
  }

  private recordFailure(username: string, userId: string | null, reason: string): Promise<unknown> {
    return this.tx.run((m) =>
      this.audit.record(m, {
        action: 'auth.login_failed',
        entityType: 'user',
        entityId: userId,
        actor: null,
        details: { username, reason },
      }),
    );
  }

  /** Opens a session for a user whose credentials were checked. */
  login(user: User): Promise<TokenPair & { user: UserSummary }> {
    return this.tx.run(async (m) => {
      const ctx = currentRequestContext();
      const now = new Date();
      const session = m.create(Session, {
        id: randomUUID(),
        userId: user.id,
        createdAt: now,
        expiresAt: new Date(now.getTime() + this.config.refreshTokenTtlSeconds * 1000),
        revokedAt: null,
        revokedReason: null,
        ip: ctx?.ip ?? null,
        userAgent: ctx?.userAgent ?? null,
      });
      await m.insert(Session, session);
      const tokens = await this.issue(m, user.id, session.id);
      await this.audit.record(m, {
        action: 'auth.login',
        entityType: 'user',
        entityId: user.id,
        actor: { id: user.id, roles: user.roles },
        details: { sessionId: session.id },
      });
      return { ...tokens, user: summary(user) };
    });
  }

  /**
   * Rotates a refresh token. A token that was already rotated is a sign it
   * leaked: the whole session (every token of the family) is revoked.
   */
  async refresh(refreshToken: string): Promise<TokenPair> {
    const outcome = await this.tx.run(async (m) => {
      const token = await m.findOneBy(RefreshToken, { tokenHash: sha256(refreshToken) });
      if (!token) return { error: invalidRefresh() };
      const session = await m.findOneBy(Session, { id: token.sessionId });
      const user = session ? await this.users.findById(session.userId) : null;
      if (!session || !user) return { error: invalidRefresh() };
      if (token.usedAt) {
        if (!session.revokedAt) {
          this.resolved.delete(session.id);
          await m.update(
            Session,
            { id: session.id },
            { revokedAt: new Date(), revokedReason: 'refresh_reuse' },
          );
          await this.audit.record(m, {
            action: 'auth.refresh_reuse_detected',
            entityType: 'user',
            entityId: user.id,
            actor: null,
            details: { sessionId: session.id },
          });
        }
        return { error: invalidRefresh() };
      }
      if (!sessionLive(session, user)) {
        return { error: invalidRefresh() };
      }
      // Guarded: of two concurrent uses of one token, only one rotates it.
      const claimed = await m.update(
        RefreshToken,
        { id: token.id, usedAt: IsNull() },
        { usedAt: new Date() },
      );
      if (!claimed.affected) return { error: invalidRefresh() };
      return { tokens: await this.issue(m, user.id, session.id) };
    });
    if ('error' in outcome) throw outcome.error;
    return outcome.tokens;
  }

  /** Ends the caller's session: its refresh tokens stop working and so do its access tokens. */
  async logout(user: AuthUser): Promise<void> {
    this.resolved.delete(user.sessionId);
    await this.tx.run(async (m) => {
      await m.update(
        Session,
        { id: user.sessionId, revokedAt: IsNull() },
        { revokedAt: new Date(), revokedReason: 'logout' },
      );
      await this.audit.record(m, {
        action: 'auth.logout',
        entityType: 'user',
        entityId: user.id,
        actor: user,
        details: { sessionId: user.sessionId },
      });
    });
  }

  /**
   * The caller behind an access token, or null when the user or its session is
   * no longer valid. The answer is kept for AUTH_SESSION_CACHE_MS (default 2 s)
   * per session: this process forgets it at once on logout or on any change of
   * the user, another API process within that time. Set 0 to check every request.
   */
  async resolve(payload: AccessTokenPayload): Promise<AuthUser | null> {
    const now = Date.now();
    const hit = this.resolved.get(payload.sid);
    if (hit && hit.until > now && hit.userId === payload.sub) return hit.user;
    const [user, session] = await Promise.all([
      this.users.findById(payload.sub),
      this.dataSource.getRepository(Session).findOneBy({ id: payload.sid }),
    ]);
    if (!user || !session || session.userId !== user.id || !sessionLive(session, user)) {
      this.resolved.delete(payload.sid);
      return null;
    }
    const resolved = { ...summary(user), roles: user.roles, sessionId: session.id };
    const ttl = this.config.sessionCacheMs;
    if (ttl > 0) {
      if (this.resolved.size > 10_000) this.resolved.clear();
      const until = Math.min(now + ttl, session.expiresAt.getTime());
      this.resolved.set(session.id, { user: resolved, userId: user.id, until });
    }
    return resolved;
  }

  private forgetUser(userId: string): void {
    for (const [sid, e] of this.resolved) if (e.userId === userId) this.resolved.delete(sid);
  }

  private async issue(m: EntityManager, userId: string, sessionId: string): Promise<TokenPair> {
    const refreshToken = randomBytes(32).toString('base64url');
    await m.insert(RefreshToken, {
      id: randomUUID(),
      sessionId,
      tokenHash: sha256(refreshToken),
      createdAt: new Date(),
      usedAt: null,
    });
    const payload: AccessTokenPayload = { sub: userId, sid: sessionId };
    const accessToken = await this.jwt.signAsync(payload);
    return {
      accessToken,
      refreshToken,
      tokenType: 'Bearer',
      expiresIn: this.config.accessTokenTtlSeconds,
    };
  }
}
