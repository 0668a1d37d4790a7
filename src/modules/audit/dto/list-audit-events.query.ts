import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { queryBoolean } from 'src/common/cursor';
import { IsCalendarDateTime } from 'src/common/validation';

export class ListAuditEventsQuery {
  @IsOptional() @IsString() @MaxLength(64) action?: string;
  @IsOptional() @IsString() @MaxLength(36) actorId?: string;
  @IsOptional() @IsString() @MaxLength(32) entityType?: string;
  @IsOptional() @IsString() @MaxLength(64) entityId?: string;
  /** Inclusive lower bound on the event time (ISO 8601). */
  @IsOptional() @IsCalendarDateTime() from?: string;
  /** Exclusive upper bound on the event time (ISO 8601). */
  @IsOptional() @IsCalendarDateTime() to?: string;

  /** The `nextCursor` of the previous page (opaque; a bare event id is also accepted). */
  @IsOptional() @IsString() @MaxLength(256) cursor?: string;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(200) pageSize?: number;

  /** The older name of `pageSize`, kept with its larger bound for existing callers. */
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500) limit?: number;

  /** Also answer `total`, an exact count of the filtered events. */
  @IsOptional() @Transform(queryBoolean) @IsBoolean() count?: boolean;

  /** `desc` (newest first, the default) or `asc` (chain order). */
  @IsOptional() @IsIn(['asc', 'desc']) order?: 'asc' | 'desc' = 'desc';
}
