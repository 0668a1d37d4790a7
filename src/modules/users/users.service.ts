import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { EntityManager, In, Repository } from 'typeorm';
import { likeContains } from 'src/common/like';
import { AppException } from 'src/common/app.exception';
import type { AuthUser } from 'src/common/auth-user';
import { diffFields } from 'src/common/diff-fields';
import { ErrorCode } from 'src/common/error-code';
import { Page, pageWindow } from 'src/common/paging';
import { Role } from 'src/common/roles';
import { Transactions } from 'src/database/transactions';
import { AuditActor, AuditService } from 'src/modules/audit/audit.service';
import { DepartmentsService } from 'src/modules/departments/departments.service';
import { hashPassword } from 'src/modules/users/passwords';
import { CreateUserDto, ListUsersQuery, UpdateUserDto } from 'src/modules/users/dto/user.dto';
import { User } from 'src/modules/users/user.entity';

export type UserView = Omit<User, 'passwordHash' | 'sessionsValidFrom'>;

export function toUserView(u: User): UserView {
  const { passwordHash: _omit, sessionsValidFrom: _epoch, ...view } = u;
  return view;
}

/** A person as other records name them. */
export interface PersonRef {
  id: string;
  username: string;
  displayName: string;
}

/** What changed about a user, for listeners that keep something derived from it (auth's cache). */
const PEOPLE_CACHE_MS = 30_000;

const REVIEWER_ROLES: readonly Role[] = [Role.DEPT_REVIEWER, Role.PROPAGANDA_REVIEWER];

export type UserChangeListener = (userId: string) => void;

@Injectable()
export class UsersService {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly tx: Transactions,
    private readonly audit: AuditService,
    private readonly departments: DepartmentsService,
  ) {}

  private readonly listeners: UserChangeListener[] = [];

  /** Called after a change of the user commits (roles, department, active, password). */
  onChange(listener: UserChangeListener): void {
    this.listeners.push(listener);
  }

  private changed(userId: string): void {
    this.names.delete(userId);
    for (const l of this.listeners) l(userId);
  }

  /**
   * Names for views, kept PEOPLE_CACHE_MS: every post view names its author and
   * reviewers. A rename shows at once in this process, in another within that time.
   */
  private readonly names = new Map<string, { ref: PersonRef; until: number }>();

  count(): Promise<number> {
    return this.users.count();
  }

  /** Users by id as other records name them; unknown ids are left out. */
  async people(ids: readonly (string | null)[]): Promise<Map<string, PersonRef>> {
    const now = Date.now();
    const out = new Map<string, PersonRef>();
    const missing: string[] = [];
    for (const id of new Set(ids.filter((x): x is string => !!x))) {
      const hit = this.names.get(id);
      if (hit && hit.until > now) out.set(id, hit.ref);
      else missing.push(id);
    }
    if (!missing.length) return out;
    const users = await this.users.find({
      where: { id: In(missing) },
      select: { id: true, username: true, displayName: true },
    });
    if (this.names.size > 10_000) this.names.clear();
    for (const u of users) {
      const ref = { id: u.id, username: u.username, displayName: u.displayName };
      out.set(u.id, ref);
      this.names.set(u.id, { ref, until: now + PEOPLE_CACHE_MS });
    }
    return out;
  }

  /** The stored user with its password hash, for sign-in only. */
  findForSignIn(username: string): Promise<User | null> {
    return this.users
      .createQueryBuilder('u')
      .addSelect('u.passwordHash')
      .where('u.username = :username', { username })
      .getOne();
  }

  /** The stored user by id (auth resolves tokens with it). */
  findById(id: string): Promise<User | null> {
    return this.users.findOneBy({ id });
  }

  async list(q: ListUsersQuery): Promise<Page<UserView>> {
    const { skip, take, page, pageSize } = pageWindow(q);
    const qb = this.users
      .createQueryBuilder('u')
      .orderBy('u.username', 'ASC')
      .skip(skip)
      .take(take);
    if (q.q)
      qb.andWhere("(u.username LIKE :q ESCAPE '!' OR u.displayName LIKE :q ESCAPE '!')", {
        q: likeContains(q.q),
      });
    if (q.departmentId) qb.andWhere('u.departmentId = :d', { d: q.departmentId });
    if (q.active !== undefined) qb.andWhere('u.active = :a', { a: q.active });
    if (q.role) {
      // roles is a comma list; match the name as a whole element, portably.
      qb.andWhere('(u.roles = :r OR u.roles LIKE :r1 OR u.roles LIKE :r2 OR u.roles LIKE :r3)', {
        r: q.role,
        r1: `${q.role},%`,
        r2: `%,${q.role}`,
        r3: `%,${q.role},%`,
      });
    }
    const [items, total] = await qb.getManyAndCount();
    return { items: items.map(toUserView), total, page, pageSize };
  }

  async get(id: string): Promise<UserView> {
    const u = await this.users.findOneBy({ id });
    if (!u) throw AppException.notFound('User', id);
    return toUserView(u);
  }

  async create(dto: CreateUserDto, actor: AuditActor | null): Promise<UserView> {
    const passwordHash = await hashPassword(dto.password);
    return this.tx.run(async (m) => {
      await this.assertDepartment(m, dto.departmentId);
      if (await m.existsBy(User, { username: dto.username })) {
        throw new AppException(ErrorCode.DUPLICATE, `Username ${dto.username} is taken`, {
          field: 'username',
        });
      }
      const u = await this.insertUser(
        m,
        {
          username: dto.username,
          displayName: dto.displayName,
          passwordHash,
          roles: dto.roles,
          departmentId: dto.departmentId,
        },
        actor,
        { displayName: dto.displayName },
      );
      return toUserView(u);
    });
  }

  async update(id: string, dto: UpdateUserDto, actor: AuthUser): Promise<UserView> {
    const view = await this.applyUpdate(id, dto, actor);
    this.changed(id);
    return view;
  }

  private async applyUpdate(id: string, dto: UpdateUserDto, actor: AuthUser): Promise<UserView> {
    if (dto.active === false && id === actor.id) {
      throw new AppException(ErrorCode.BUSINESS_RULE, 'You cannot deactivate yourself');
    }

    const passwordHash = dto.password ? await hashPassword(dto.password) : undefined;
    return this.tx.run(async (m) => {
      const u = await m.findOneBy(User, { id });
      if (!u) throw AppException.notFound('User', id);
      if (dto.departmentId && dto.departmentId !== u.departmentId)
        await this.assertDepartment(m, dto.departmentId);
      const { password: _pw, ...fields } = dto;
      const changes = diffFields(u, fields, ['displayName', 'departmentId', 'active']);
      const rolesChanged =
        dto.roles !== undefined && [...dto.roles].sort().join() !== [...u.roles].sort().join();
      if (rolesChanged && id === actor.id) {
        // Separation of duties: an admin could otherwise make itself a reviewer and approve.
        throw new AppException(
          ErrorCode.SELF_ROLE_CHANGE,
          'You cannot change your own roles; another administrator must',
        );
      }
      const now = new Date();
      const patch: Partial<User> = { ...fields, updatedAt: now };
      if (passwordHash) patch.passwordHash = passwordHash;
      if (!rolesChanged) delete patch.roles;
      if (Object.keys(changes).length === 0 && !rolesChanged && !passwordHash) return toUserView(u);
      await m.update(User, { id }, patch);
      const before = { ...u };
      Object.assign(u, patch);
      if (rolesChanged) {
        await this.audit.record(m, {
          action: 'user.roles_changed',
          entityType: 'user',
          entityId: id,
          actor,
          details: { from: before.roles, to: u.roles },
        });
        await this.recordReviewerGrants(m, id, before.roles, u.roles, actor);
      }
      if (passwordHash) {
        await this.audit.record(m, {
          action: 'user.password_changed',
          entityType: 'user',
          entityId: id,
          actor,
        });
        await this.endSessions(m, id);
      }
      const { active, ...otherChanges } = changes;
      if (Object.keys(otherChanges).length > 0) {
        await this.audit.record(m, {
          action: 'user.updated',
          entityType: 'user',
          entityId: id,
          actor,
          details: { changes: otherChanges },
        });
      }
      if (active) {
        if (u.active === false) await this.endSessions(m, id);
        await this.audit.record(m, {
          action: u.active ? 'user.activated' : 'user.deactivated',
          entityType: 'user',
          entityId: id,
          actor,
        });
      }
      return toUserView(u);
    });
  }

  deactivate(id: string, actor: AuthUser): Promise<UserView> {
    return this.update(id, { active: false }, actor);
  }

  /**
   * The first administrator (and its password reset) from the command line:
   * works on any database, demo data or not.
   */
  async ensureAdmin(
    username: string,
    password: string,
  ): Promise<{ user: UserView; created: boolean }> {
    const passwordHash = await hashPassword(password);
    const done = await this.insertOrResetAdmin(username, passwordHash);
    this.changed(done.user.id);
    return done;
  }

  private insertOrResetAdmin(
    username: string,
    passwordHash: string,
  ): Promise<{ user: UserView; created: boolean }> {
    return this.tx.run(async (m) => {
      const existing = await m.findOneBy(User, { username });
      if (existing) {
        const roles = existing.roles.includes(Role.ADMIN)
          ? existing.roles
          : [...existing.roles, Role.ADMIN];
        await m.update(
          User,
          { id: existing.id },
          { passwordHash, roles, active: true, updatedAt: new Date() },
        );
        await this.endSessions(m, existing.id);
        await this.audit.record(m, {
          action: 'user.admin_reset',
          entityType: 'user',
          entityId: existing.id,
          actor: null,
          details: { via: 'admin:create', roles },
        });
        return { user: toUserView({ ...existing, roles, active: true }), created: false };
      }
      const dept = await this.departments.ensureAdminDepartment(m);
      const u = await this.insertUser(
        m,
        {
          username,
          displayName: username,
          passwordHash,
          roles: [Role.ADMIN],
          departmentId: dept.id,
        },
        null,
        { via: 'admin:create' },
      );
      return { user: toUserView(u), created: true };
    });
  }

  /** A reviewer role given is its own event, naming who gave it (the actor) and to whom. */
  private async recordReviewerGrants(
    m: EntityManager,
    userId: string,
    from: readonly Role[],
    to: readonly Role[],
    grantor: AuditActor | null,
  ): Promise<void> {
    const granted = to.filter((r) => REVIEWER_ROLES.includes(r) && !from.includes(r));
    if (!granted.length) return;
    await this.audit.record(m, {
      action: 'user.reviewer_role_granted',
      entityType: 'user',
      entityId: userId,
      actor: grantor,
      details: { roles: granted, grantedBy: grantor?.id ?? null },
    });
  }

  private assertDepartment(m: EntityManager, departmentId: string): Promise<void> {
    return this.departments.assertUsable(m, departmentId);
  }

  /** One new user and its `user.created` event, for the API and the CLI alike. */
  private async insertUser(
    m: EntityManager,
    f: Pick<User, 'username' | 'displayName' | 'passwordHash' | 'roles' | 'departmentId'>,
    actor: AuditActor | null,
    extra: Record<string, unknown>,
  ): Promise<User> {
    const now = new Date();
    const u = m.create(User, {
      id: randomUUID(),
      ...f,
      active: true,
      sessionsValidFrom: null,
      createdAt: now,
      updatedAt: now,
    });
    await m.insert(User, u);
    await this.audit.record(m, {
      action: 'user.created',
      entityType: 'user',
      entityId: u.id,
      actor,
      details: { username: u.username, roles: u.roles, departmentId: u.departmentId, ...extra },
    });
    await this.recordReviewerGrants(m, u.id, [], u.roles, actor);
    return u;
  }

  /** Every session begun before now is over; auth checks this column on each use. */
  private async endSessions(m: EntityManager, userId: string): Promise<void> {
    await m.update(User, { id: userId }, { sessionsValidFrom: new Date() });
  }
}
