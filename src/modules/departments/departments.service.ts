import { Injectable } from '@nestjs/common';
import { likeContains } from 'src/common/like';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { EntityManager, Repository } from 'typeorm';
import { AppException } from 'src/common/app.exception';
import type { AuthUser } from 'src/common/auth-user';
import { ErrorCode } from 'src/common/error-code';
import { Page, pageWindow } from 'src/common/paging';
import { Transactions } from 'src/database/transactions';
import { AuditService } from 'src/modules/audit/audit.service';
import { diffFields } from 'src/common/diff-fields';
import { Department } from 'src/modules/departments/department.entity';
import {
  CreateDepartmentDto,
  ListDepartmentsQuery,
  UpdateDepartmentDto,
} from 'src/modules/departments/dto/department.dto';

@Injectable()
export class DepartmentsService {
  constructor(
    @InjectRepository(Department) private readonly departments: Repository<Department>,
    private readonly tx: Transactions,
    private readonly audit: AuditService,
  ) {}

  async list(q: ListDepartmentsQuery): Promise<Page<Department>> {
    const { skip, take, page, pageSize } = pageWindow(q);
    const qb = this.departments
      .createQueryBuilder('d')
      .orderBy('d.code', 'ASC')
      .skip(skip)
      .take(take);
    if (q.q)
      qb.andWhere("(d.name LIKE :q ESCAPE '!' OR d.code LIKE :q ESCAPE '!')", {
        q: likeContains(q.q),
      });
    if (q.active !== undefined) qb.andWhere('d.active = :active', { active: q.active });
    const [items, total] = await qb.getManyAndCount();
    return { items, total, page, pageSize };
  }

  async get(id: string): Promise<Department> {
    const d = await this.departments.findOneBy({ id });
    if (!d) throw AppException.notFound('Department', id);
    return d;
  }

  create(dto: CreateDepartmentDto, actor: AuthUser | null): Promise<Department> {
    return this.tx.run(async (m) => {
      await this.assertCodeFree(m.getRepository(Department), dto.code);
      return this.insert(m, dto, actor, {});
    });
  }

  /** The department `admin:create` puts the first administrator in, made on first use. */
  async ensureAdminDepartment(m: EntityManager): Promise<Department> {
    const found = await m.findOneBy(Department, { code: 'ADMIN' });
    if (found) return found;
    return this.insert(m, { name: '系统管理', code: 'ADMIN', isPropaganda: false }, null, {
      via: 'admin:create',
    });
  }

  /** A user may be placed only in a department that exists and is active. */
  async assertUsable(m: EntityManager, departmentId: string): Promise<void> {
    const d = await m.findOneBy(Department, { id: departmentId });
    if (!d) {
      throw new AppException(ErrorCode.VALIDATION_FAILED, 'Unknown department', [
        { field: 'departmentId', errors: ['department does not exist'] },
      ]);
    }
    if (!d.active) throw new AppException(ErrorCode.BUSINESS_RULE, 'Department is deactivated');
  }

  private async insert(
    m: EntityManager,
    dto: CreateDepartmentDto,
    actor: AuthUser | null,
    extra: Record<string, unknown>,
  ): Promise<Department> {
    const now = new Date();
    const d = m.create(Department, {
      id: randomUUID(),
      name: dto.name,
      code: dto.code,
      isPropaganda: dto.isPropaganda ?? false,
      active: true,
      createdAt: now,
      updatedAt: now,
    });
    await m.insert(Department, d);
    await this.audit.record(m, {
      action: 'department.created',
      entityType: 'department',
      entityId: d.id,
      actor,
      details: { name: d.name, code: d.code, isPropaganda: d.isPropaganda, ...extra },
    });
    return d;
  }

  update(id: string, dto: UpdateDepartmentDto, actor: AuthUser): Promise<Department> {
    return this.tx.run(async (m) => {
      const repo = m.getRepository(Department);
      const d = await repo.findOneBy({ id });
      if (!d) throw AppException.notFound('Department', id);
      if (dto.code !== undefined && dto.code !== d.code) await this.assertCodeFree(repo, dto.code);
      const changes = diffFields(d, dto, ['name', 'code', 'isPropaganda', 'active']);
      if (Object.keys(changes).length === 0) return d;
      Object.assign(d, dto, { updatedAt: new Date() });
      await repo.update({ id }, { ...dto, updatedAt: d.updatedAt });
      const action =
        changes.active && dto.active === false
          ? 'department.deactivated'
          : changes.active && dto.active === true
            ? 'department.activated'
            : 'department.updated';
      await this.audit.record(m, {
        action,
        entityType: 'department',
        entityId: id,
        actor,
        details: { changes },
      });
      return d;
    });
  }

  deactivate(id: string, actor: AuthUser): Promise<Department> {
    return this.update(id, { active: false }, actor);
  }

  private async assertCodeFree(repo: Repository<Department>, code: string): Promise<void> {
    if (await repo.existsBy({ code })) {
      throw new AppException(ErrorCode.DUPLICATE, `Department code ${code} is taken`, {
        field: 'code',
      });
    }
  }
}
