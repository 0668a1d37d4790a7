import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import type { Request } from 'express';
import { AppException } from 'src/common/app.exception';
import type { AuthUser } from 'src/common/auth-user';
import { isDatabaseUnavailable } from 'src/common/db-errors';
import { IS_PUBLIC, ROLES } from 'src/common/decorators';
import { ErrorCode } from 'src/common/error-code';
import type { Role } from 'src/common/roles';
import { flattenValidationErrors } from 'src/common/validation';
import { LoginDto } from 'src/modules/auth/dto/auth.dto';

/** Global: every route needs a valid access token unless marked @Public(). */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(ctx: ExecutionContext) {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
      ctx.getHandler(),
      ctx.getClass(),
    ]);
    if (isPublic) return true;
    return super.canActivate(ctx);
  }

  override handleRequest<T>(err: unknown, user: T): T {
    // A session lookup that failed on the database is an outage (503), not a logout:
    // a 401 would make the client throw away a good session.
    if (err)
      throw err instanceof AppException || isDatabaseUnavailable(err)
        ? err
        : new AppException(ErrorCode.UNAUTHENTICATED, 'Sign in first');
    if (!user)
      throw new AppException(ErrorCode.UNAUTHENTICATED, 'A valid bearer token is required');
    return user;
  }
}

/** Global, after authentication: enforces @Roles(...) on controllers and handlers. */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(ctx: ExecutionContext): boolean {
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES, [
      ctx.getHandler(),
      ctx.getClass(),
    ]);
    if (!roles?.length) return true;
    const user = ctx.switchToHttp().getRequest<Request & { user?: AuthUser }>().user;
    if (user && roles.some((r) => user.roles.includes(r))) return true;
    throw new AppException(ErrorCode.FORBIDDEN, `This needs one of the roles: ${roles.join(', ')}`);
  }
}

/** The local strategy, with the body validated first so a missing field is a 400, not a 401. */
@Injectable()
export class LocalAuthGuard extends AuthGuard('local') {
  override canActivate(ctx: ExecutionContext) {
    const req = ctx.switchToHttp().getRequest<Request>();
    const dto = plainToInstance(LoginDto, req.body ?? {});
    const errors = validateSync(dto, { whitelist: true, forbidNonWhitelisted: true });
    if (errors.length) {
      const details = flattenValidationErrors(errors);
      throw new AppException(
        ErrorCode.VALIDATION_FAILED,
        `Invalid input: ${details.map((d) => d.field).join(', ')}`,
        details,
      );
    }
    return super.canActivate(ctx);
  }

  override handleRequest<T>(err: unknown, user: T): T {
    if (err) throw err;
    if (!user)
      throw new AppException(ErrorCode.INVALID_CREDENTIALS, 'Username or password is wrong');
    return user;
  }
}
