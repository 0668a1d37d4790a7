import { IsCalendarDateTime, IsBoundedUniqueArray } from 'src/common/validation';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUrl,
  Max,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';
import { CursorPageQuery } from 'src/common/cursor';
import { POST_STATES, PostState } from 'src/modules/posts/post-state-machine';

export const LIMITS = { title: 64, summary: 120, body: 200_000, channels: 20 } as const;

const httpUrl = { protocols: ['http', 'https'], require_protocol: true, require_tld: false };

export class CreatePostDto {
  @ApiProperty({ maxLength: LIMITS.title, example: '我校举办2026年秋季运动会' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(LIMITS.title)
  title: string;

  @ApiPropertyOptional({ maxLength: LIMITS.summary })
  @IsOptional()
  @IsString()
  @MaxLength(LIMITS.summary)
  summary?: string | null;

  @ApiProperty({ description: 'HTML; sanitised to an allow-list on write', maxLength: LIMITS.body })
  @IsString()
  @IsNotEmpty()
  @MaxLength(LIMITS.body)
  body: string;

  @ApiPropertyOptional({ description: 'http(s) URL of the cover image' })
  @IsOptional()
  @IsUrl(httpUrl)
  @MaxLength(1024)
  coverImageUrl?: string | null;

  @ApiProperty({ type: [String], description: 'Target channels (at least one)' })
  @IsArray()
  @ArrayMinSize(1)
  @IsBoundedUniqueArray(LIMITS.channels)
  @IsString({ each: true })
  channelIds: string[];

  @ApiPropertyOptional({ description: 'ISO 8601; publish no earlier than this' })
  @IsOptional()
  @IsCalendarDateTime()
  publishAt?: string | null;
}

/** Every field optional; `null` clears summary, coverImageUrl or publishAt. */
export class UpdatePostDto {
  @ApiPropertyOptional({ maxLength: LIMITS.title })
  @ValidateIf((_, v) => v !== undefined)
  @IsString()
  @IsNotEmpty()
  @MaxLength(LIMITS.title)
  title?: string;

  @ApiPropertyOptional({ maxLength: LIMITS.summary, nullable: true })
  @ValidateIf((_, v) => v !== undefined && v !== null)
  @IsString()
  @MaxLength(LIMITS.summary)
  summary?: string | null;

  @ApiPropertyOptional({ maxLength: LIMITS.body })
  @ValidateIf((_, v) => v !== undefined)
  @IsString()
  @IsNotEmpty()
  @MaxLength(LIMITS.body)
  body?: string;

  @ApiPropertyOptional({ nullable: true })
  @ValidateIf((_, v) => v !== undefined && v !== null)
  @IsUrl(httpUrl)
  @MaxLength(1024)
  coverImageUrl?: string | null;

  @ApiPropertyOptional({ type: [String] })
  @ValidateIf((_, v) => v !== undefined)
  @IsArray()
  @ArrayMinSize(1)
  @IsBoundedUniqueArray(LIMITS.channels)
  @IsString({ each: true })
  channelIds?: string[];

  @ApiPropertyOptional({ nullable: true })
  @ValidateIf((_, v) => v !== undefined && v !== null)
  @IsCalendarDateTime()
  publishAt?: string | null;
}

export class ListPostsQuery extends CursorPageQuery {
  @IsOptional() @IsIn(POST_STATES) state?: PostState;
  @IsOptional() @IsString() @MaxLength(36) departmentId?: string;
  @IsOptional() @IsString() @MaxLength(36) channelId?: string;
  @IsOptional() @IsString() @MaxLength(36) authorId?: string;
  /** Literal text in the current title or summary, case-insensitive. */
  @IsOptional() @IsString() @MaxLength(64) q?: string;
  @IsOptional() @IsCalendarDateTime() createdFrom?: string;
  @IsOptional() @IsCalendarDateTime() createdTo?: string;
}

export class DiffQuery {
  @Type(() => Number) @IsInt() @Min(1) @Max(100000) from: number;
  @Type(() => Number) @IsInt() @Min(1) @Max(100000) to: number;
}
