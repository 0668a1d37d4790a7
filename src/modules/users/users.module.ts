import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from 'src/modules/audit/audit.module';
import { DepartmentsModule } from 'src/modules/departments/departments.module';
import { User } from 'src/modules/users/user.entity';
import { UsersService } from 'src/modules/users/users.service';

@Module({
  imports: [TypeOrmModule.forFeature([User]), AuditModule, DepartmentsModule],
  providers: [UsersService],
  exports: [UsersService],
})
export class UsersModule {}
