import { IsCalendarDateTime } from 'src/common/validation';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

export class ListAuditEventsQuery {
  @IsOptional() @IsString() @MaxLength(64) action?: string;
  @IsOptional() @IsString() @MaxLength(36) actorId?: string;
  @IsOptional() @IsString() @MaxLength(32) entityType?: string;
  @IsOptional() @IsString() @MaxLength(64) entityId?: string;
  /** Inclusive lower bound on the event time (ISO 8601). */
  @IsOptional() @IsCalendarDateTime() from?: string;
  /** Exclusive upper bound on the event time (ISO 8601). */
  @IsOptional() @IsCalendarDateTime() to?: string;

  /** The `nextCursor` of the previous page. */
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(Number.MAX_SAFE_INTEGER) cursor?: number;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500) limit?: number = 100;

  /** `desc` (newest first, the default) or `asc` (chain order). */
  @IsOptional() @IsIn(['asc', 'desc']) order?: 'asc' | 'desc' = 'desc';
}
