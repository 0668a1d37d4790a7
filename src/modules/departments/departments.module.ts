import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from 'src/modules/audit/audit.module';
import { Department } from 'src/modules/departments/department.entity';
import { DepartmentsService } from 'src/modules/departments/departments.service';

@Module({
  imports: [TypeOrmModule.forFeature([Department]), AuditModule],
  providers: [DepartmentsService],
  exports: [DepartmentsService],
})
export class DepartmentsModule {}
