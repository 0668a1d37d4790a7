import { Body, Controller, Delete, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { AuthUser } from 'src/common/auth-user';
import { CurrentUser, Roles } from 'src/common/decorators';
import { Role } from 'src/common/roles';
import { ChannelsService } from 'src/modules/channels/channels.service';
import {
  CreateChannelDto,
  ListChannelsQuery,
  UpdateChannelDto,
} from 'src/modules/channels/dto/channel.dto';

@ApiTags('administration')
@ApiBearerAuth()
@Controller('channels')
export class ChannelsController {
  constructor(private readonly channels: ChannelsService) {}

  /** Any signed-in user reads channels (editors choose targets); credentials never appear. */
  @Get()
  list(@Query() q: ListChannelsQuery) {
    return this.channels.list(q);
  }

  @Get(':id')
  get(@Param('id') id: string) {
    return this.channels.get(id);
  }

  @Roles(Role.ADMIN)
  @Post()
  create(@Body() dto: CreateChannelDto, @CurrentUser() user: AuthUser) {
    return this.channels.create(dto, user);
  }

  @Roles(Role.ADMIN)
  @Patch(':id')
  update(@Param('id') id: string, @Body() dto: UpdateChannelDto, @CurrentUser() user: AuthUser) {
    return this.channels.update(id, dto, user);
  }

  @Roles(Role.ADMIN)
  @Delete(':id')
  deactivate(@Param('id') id: string, @CurrentUser() user: AuthUser) {
    return this.channels.deactivate(id, user);
  }
}
