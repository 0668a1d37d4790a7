import { Body, Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import type { AuthUser } from 'src/common/auth-user';
import { CurrentUser, Public } from 'src/common/decorators';
import { AuthService } from 'src/modules/auth/auth.service';
import { LoginDto, LogoutDto, RefreshDto } from 'src/modules/auth/dto/auth.dto';
import { LocalAuthGuard } from 'src/modules/auth/guards';
import type { User } from 'src/modules/users/user.entity';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @UseGuards(LocalAuthGuard)
  @ApiBody({ type: LoginDto })
  @HttpCode(200)
  @Post('login')
  login(@CurrentUser() user: unknown) {
    return this.auth.login(user as User);
  }

  @Public()
  @HttpCode(200)
  @Post('refresh')
  refresh(@Body() dto: RefreshDto) {
    return this.auth.refresh(dto.refreshToken);
  }

  @ApiBearerAuth()
  @HttpCode(204)
  @Post('logout')
  async logout(@CurrentUser() user: AuthUser, @Body() _dto: LogoutDto) {
    await this.auth.logout(user);
  }

  @ApiBearerAuth()
  @Get('me')
  me(@CurrentUser() user: AuthUser) {
    const { sessionId: _sid, ...me } = user;
    return me;
  }
}
