import { IsOmittable } from 'src/common/validation';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
} from 'class-validator';
import { PageQuery } from 'src/common/paging';
import { Platform, PLATFORMS } from 'src/modules/channels/channel.entity';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
const toBool = ({ value }: { value: unknown }) =>
  value === 'true' ? true : value === 'false' ? false : value;

export class CreateChannelDto {
  @ApiProperty({ example: '计算机学院微信公众号' })
  @Transform(trim)
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name: string;

  @ApiProperty({ enum: PLATFORMS })
  @IsIn(PLATFORMS)
  platform: Platform;

  @ApiProperty()
  @IsString()
  @IsNotEmpty()
  departmentId: string;

  @ApiPropertyOptional({
    default: false,
    description: 'Other departments may target it (e.g. the main account)',
  })
  @IsOmittable()
  @IsBoolean()
  acceptsSubmissions?: boolean;

  @ApiPropertyOptional({
    description: 'Platform settings, e.g. a webhook {url}',
    example: { url: 'https://example.edu.cn/hook' },
  })
  @IsOmittable()
  @IsObject()
  config?: Record<string, unknown>;

  @ApiPropertyOptional({
    description: 'Write-only secrets, e.g. {appId, appSecret} or {secret}; never returned',
  })
  @IsOmittable()
  @IsObject()
  credentials?: Record<string, unknown>;
}

export class UpdateChannelDto {
  @ApiPropertyOptional()
  @IsOmittable()
  @Transform(trim)
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name?: string;

  @ApiPropertyOptional()
  @IsOmittable()
  @IsString()
  @IsNotEmpty()
  departmentId?: string;

  @ApiPropertyOptional()
  @IsOmittable()
  @IsBoolean()
  acceptsSubmissions?: boolean;

  @ApiPropertyOptional()
  @IsOmittable()
  @IsObject()
  config?: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'Replaces the stored secrets; never returned' })
  @IsOmittable()
  @IsObject()
  credentials?: Record<string, unknown>;

  @ApiPropertyOptional()
  @IsOmittable()
  @IsBoolean()
  active?: boolean;
}

export class ListChannelsQuery extends PageQuery {
  @IsOptional() @IsString() @MaxLength(100) q?: string;
  @IsOptional() @IsString() departmentId?: string;
  @IsOptional() @IsIn(PLATFORMS) platform?: Platform;
  @IsOptional() @Transform(toBool) @IsBoolean() active?: boolean;
  @IsOptional() @Transform(toBool) @IsBoolean() acceptsSubmissions?: boolean;
}
