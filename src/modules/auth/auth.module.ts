import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from 'src/config/app-config';
import { AuditModule } from 'src/modules/audit/audit.module';
import { UsersModule } from 'src/modules/users/users.module';
import { AuthService } from 'src/modules/auth/auth.service';
import { RefreshToken, Session } from 'src/modules/auth/session.entity';
import { JwtAuthGuard, RolesGuard } from 'src/modules/auth/guards';
import { JwtStrategy, LocalStrategy } from 'src/modules/auth/strategies';

@Module({
  imports: [
    TypeOrmModule.forFeature([Session, RefreshToken]),
    AuditModule,
    UsersModule,
    PassportModule,
    JwtModule.registerAsync({
      inject: [AppConfig],
      useFactory: (c: AppConfig) => ({
        secret: c.jwtSecret,
        signOptions: { algorithm: 'HS256', expiresIn: c.accessTokenTtlSeconds },
      }),
    }),
  ],
  providers: [
    AuthService,
    LocalStrategy,
    JwtStrategy,
    { provide: APP_GUARD, useClass: JwtAuthGuard },
    { provide: APP_GUARD, useClass: RolesGuard },
  ],
  exports: [AuthService],
})
export class AuthModule {}
