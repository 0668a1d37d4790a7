import { Injectable } from '@nestjs/common';
import { likeContains } from 'src/common/like';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { EntityManager, IsNull, Repository } from 'typeorm';
import { AppException } from 'src/common/app.exception';
import type { AuthUser } from 'src/common/auth-user';
import { diffFields } from 'src/common/diff-fields';
import { ErrorCode } from 'src/common/error-code';
import { Page, pageWindow } from 'src/common/paging';
import { Role } from 'src/common/roles';
import { Transactions } from 'src/database/transactions';
import { AuditActor, AuditService } from 'src/modules/audit/audit.service';
import { Session } from 'src/modules/auth/session.entity';
import { hashPassword } from 'src/modules/auth/passwords';
import { Department } from 'src/modules/departments/department.entity';
import { CreateUserDto, ListUsersQuery, UpdateUserDto } from 'src/modules/users/dto/user.dto';
import { User } from 'src/modules/users/user.entity';

export type UserView = Omit<User, 'passwordHash'>;

export function toUserView(u: User): UserView {
  const { passwordHash: _omit, ...view } = u;
  return view;
}

@Injectable()
export class UsersService {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly tx: Transactions,
    private readonly audit: AuditService,
  ) {}

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
      const now = new Date();
      const u = m.create(User, {
        id: randomUUID(),
        username: dto.username,
        displayName: dto.displayName,
        passwordHash,
        roles: dto.roles,
        departmentId: dto.departmentId,
        active: true,
        createdAt: now,
        updatedAt: now,
      });
      await m.insert(User, u);
      await this.audit.record(m, {
        action: 'user.created',
        entityType: 'user',
        entityId: u.id,
        actor,
        details: {
          username: u.username,
          displayName: u.displayName,
          roles: u.roles,
          departmentId: u.departmentId,
        },
      });
      return toUserView(u);
    });
  }

  async update(id: string, dto: UpdateUserDto, actor: AuthUser): Promise<UserView> {
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
      }
      if (passwordHash) {
        await this.audit.record(m, {
          action: 'user.password_changed',
          entityType: 'user',
          entityId: id,
          actor,
        });
        await this.revokeSessions(m, id, 'password_changed');
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
        if (u.active === false) await this.revokeSessions(m, id, 'deactivated');
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
        await this.revokeSessions(m, existing.id, 'password_changed');
        await this.audit.record(m, {
          action: 'user.admin_reset',
          entityType: 'user',
          entityId: existing.id,
          actor: null,
          details: { via: 'admin:create', roles },
        });
        return { user: toUserView({ ...existing, roles, active: true }), created: false };
      }
      let dept = await m.findOneBy(Department, { code: 'ADMIN' });
      if (!dept) {
        const now = new Date();
        dept = m.create(Department, {
          id: randomUUID(),
          name: '系统管理',
          code: 'ADMIN',
          isPropaganda: false,
          active: true,
          createdAt: now,
          updatedAt: now,
        });
        await m.insert(Department, dept);
        await this.audit.record(m, {
          action: 'department.created',
          entityType: 'department',
          entityId: dept.id,
          actor: null,
          details: { name: dept.name, code: dept.code, isPropaganda: false, via: 'admin:create' },
        });
      }
      const now = new Date();
      const u = m.create(User, {
        id: randomUUID(),
        username,
        displayName: username,
        passwordHash,
        roles: [Role.ADMIN],
        departmentId: dept.id,
        active: true,
        createdAt: now,
        updatedAt: now,
      });
      await m.insert(User, u);
      await this.audit.record(m, {
        action: 'user.created',
        entityType: 'user',
        entityId: u.id,
        actor: null,
        details: { username, roles: u.roles, departmentId: dept.id, via: 'admin:create' },
      });
      return { user: toUserView(u), created: true };
    });
  }

  private async assertDepartment(m: EntityManager, departmentId: string): Promise<void> {
    const d = await m.findOneBy(Department, { id: departmentId });
    if (!d) {
      throw new AppException(ErrorCode.VALIDATION_FAILED, 'Unknown department', [
        { field: 'departmentId', errors: ['department does not exist'] },
      ]);
    }
    if (!d.active) throw new AppException(ErrorCode.BUSINESS_RULE, 'Department is deactivated');
  }

  private async revokeSessions(m: EntityManager, userId: string, reason: string): Promise<void> {
    await m.update(
      Session,
      { userId, revokedAt: IsNull() },
      { revokedAt: new Date(), revokedReason: reason },
    );
  }
}
