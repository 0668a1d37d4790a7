import { IsCalendarDateTime } from 'src/common/validation';
import { ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsIn,
  IsOptional,
  IsString,
  MaxLength,
  registerDecorator,
  ValidationArguments,
  ValidationOptions,
} from 'class-validator';
import { PUBLICATION_STATUSES } from 'src/modules/publishing/dto/publication.dto';

/** `to` must come after `from` when both are given. */
function IsAfter(field: string, options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isAfter',
      target: object.constructor,
      propertyName,
      constraints: [field],
      options: { message: `$property must be later than ${field}`, ...options },
      validator: {
        validate(value: unknown, args: ValidationArguments) {
          const other = (args.object as Record<string, unknown>)[field];
          if (typeof value !== 'string' || typeof other !== 'string') return true;
          const [a, b] = [Date.parse(value), Date.parse(other)];
          return Number.isNaN(a) || Number.isNaN(b) || a > b;
        },
      },
    });
}

class RangeQuery {
  /** Inclusive lower bound (ISO 8601, e.g. `2026-01-01T00:00:00+08:00`). */
  @ApiPropertyOptional({ example: '2026-01-01T00:00:00+08:00' })
  @IsOptional()
  @IsCalendarDateTime()
  from?: string;

  /** Exclusive upper bound (ISO 8601). */
  @ApiPropertyOptional({ example: '2027-01-01T00:00:00+08:00' })
  @IsOptional()
  @IsCalendarDateTime()
  @IsAfter('from')
  to?: string;
}

export const SUMMARY_FORMATS = ['json', 'csv', 'xlsx'] as const;
export const EXPORT_FORMATS = ['csv', 'xlsx'] as const;

export class SummaryQuery extends RangeQuery {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(36)
  departmentId?: string;

  @ApiPropertyOptional({ enum: SUMMARY_FORMATS, default: 'json' })
  @IsOptional()
  @IsIn(SUMMARY_FORMATS)
  format?: (typeof SUMMARY_FORMATS)[number] = 'json';
}

export class PublicationsExportQuery extends RangeQuery {
  @ApiPropertyOptional({ enum: EXPORT_FORMATS, default: 'csv' })
  @IsOptional()
  @IsIn(EXPORT_FORMATS)
  format?: (typeof EXPORT_FORMATS)[number] = 'csv';

  @IsOptional() @IsString() @MaxLength(36) channelId?: string;
  @IsOptional() @IsString() @MaxLength(36) departmentId?: string;
  @ApiPropertyOptional({ enum: PUBLICATION_STATUSES })
  @IsOptional()
  @IsIn(PUBLICATION_STATUSES)
  status?: (typeof PUBLICATION_STATUSES)[number];
}

export class AuditEventsExportQuery extends RangeQuery {
  @ApiPropertyOptional({ enum: EXPORT_FORMATS, default: 'csv' })
  @IsOptional()
  @IsIn(EXPORT_FORMATS)
  format?: (typeof EXPORT_FORMATS)[number] = 'csv';

  @IsOptional() @IsString() @MaxLength(64) action?: string;
  @IsOptional() @IsString() @MaxLength(36) actorId?: string;
  @IsOptional() @IsString() @MaxLength(32) entityType?: string;
  @IsOptional() @IsString() @MaxLength(64) entityId?: string;
}
