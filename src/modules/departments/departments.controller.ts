import { Body, Controller, Delete, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { AuthUser } from 'src/common/auth-user';
import { CurrentUser, Roles } from 'src/common/decorators';
import { Role } from 'src/common/roles';
import { DepartmentsService } from 'src/modules/departments/departments.service';
import {
  CreateDepartmentDto,
  ListDepartmentsQuery,
  UpdateDepartmentDto,
} from 'src/modules/departments/dto/department.dto';

@ApiTags('administration')
@ApiBearerAuth()
@Controller('departments')
export class DepartmentsController {
  constructor(private readonly departments: DepartmentsService) {}

  /** Every signed-in user may read the organisation: editors pick channels by department. */
  @Get()
  list(@Query() q: ListDepartmentsQuery) {
    return this.departments.list(q);
  }

  @Get(':id')
  get(@Param('id') id: string) {
    return this.departments.get(id);
  }

  @Roles(Role.ADMIN)
  @Post()
  create(@Body() dto: CreateDepartmentDto, @CurrentUser() user: AuthUser) {
    return this.departments.create(dto, user);
  }

  @Roles(Role.ADMIN)
  @Patch(':id')
  update(@Param('id') id: string, @Body() dto: UpdateDepartmentDto, @CurrentUser() user: AuthUser) {
    return this.departments.update(id, dto, user);
  }

  @Roles(Role.ADMIN)
  @Delete(':id')
  deactivate(@Param('id') id: string, @CurrentUser() user: AuthUser) {
    return this.departments.deactivate(id, user);
  }
}
