import { Injectable } from '@nestjs/common';
import { createSecretKey } from 'node:crypto';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy as JwtStrategyBase } from 'passport-jwt';
import { Strategy as LocalStrategyBase } from 'passport-local';
import { AppException } from 'src/common/app.exception';
import type { AuthUser } from 'src/common/auth-user';
import { ErrorCode } from 'src/common/error-code';
import { AppConfig } from 'src/config/app-config';
import { AccessTokenPayload, AuthService } from 'src/modules/auth/auth.service';
import type { User } from 'src/modules/users/user.entity';

@Injectable()
export class LocalStrategy extends PassportStrategy(LocalStrategyBase, 'local') {
  constructor(private readonly auth: AuthService) {
    super({ usernameField: 'username', passwordField: 'password' });
  }

  validate(username: string, password: string): Promise<User> {
    return this.auth.validateCredentials(username, password);
  }
}

@Injectable()
export class JwtStrategy extends PassportStrategy(JwtStrategyBase, 'jwt') {
  constructor(
    private readonly auth: AuthService,
    config: AppConfig,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      // A KeyObject: given the string, jsonwebtoken first tries it as a public key on
      // every request, throws, and only then treats it as a secret (a tenth of the CPU).
      secretOrKey: createSecretKey(Buffer.from(config.jwtSecret, 'utf8')) as unknown as string,
      algorithms: ['HS256'],
      ignoreExpiration: false,
    });
  }

  async validate(payload: AccessTokenPayload): Promise<AuthUser> {
    if (typeof payload?.sub !== 'string' || typeof payload?.sid !== 'string') {
      throw new AppException(ErrorCode.UNAUTHENTICATED, 'Invalid access token');
    }
    const user = await this.auth.resolve(payload);
    if (!user)
      throw new AppException(ErrorCode.UNAUTHENTICATED, 'Session has ended; sign in again');
    return user;
  }
}
