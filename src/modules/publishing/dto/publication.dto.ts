import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { CursorPageQuery } from 'src/common/cursor';
import { IsCalendarDateTime } from 'src/common/validation';

export const PUBLICATION_STATUSES = [
  'queued',
  'sending',
  'published',
  'failed',
  'retracting',
  'retracted',
  'cancelled',
] as const;

export class ListPublicationsQuery extends CursorPageQuery {
  @IsOptional() @IsString() @MaxLength(36) channelId?: string;
  @IsOptional() @IsString() @MaxLength(36) departmentId?: string;
  @IsOptional() @IsString() @MaxLength(36) postId?: string;
  @IsOptional() @IsIn(PUBLICATION_STATUSES) status?: (typeof PUBLICATION_STATUSES)[number];
  /** Created at or after (ISO 8601). */
  @IsOptional() @IsCalendarDateTime() from?: string;
  /** Created before (ISO 8601). */
  @IsOptional() @IsCalendarDateTime() to?: string;
}
