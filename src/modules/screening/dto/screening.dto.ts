import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateIf,
} from 'class-validator';
import { PageQuery } from 'src/common/paging';
import { CATEGORY_PATTERN, TERM_LEVELS, TERM_MAX_LENGTH } from 'src/modules/screening/term-list';
import type { TermLevel } from 'src/modules/screening/matcher';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
const lower = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? value.trim().toLowerCase() : value;
const bool = ({ value }: { value: unknown }) =>
  value === 'true' ? true : value === 'false' ? false : value;
const CATEGORY_MESSAGE = 'category must be 1-32 letters, digits, _ or -';

export class CreateTermDto {
  @ApiProperty({ example: '某敏感词', maxLength: TERM_MAX_LENGTH })
  @Transform(trim)
  @IsString()
  @IsNotEmpty()
  @MaxLength(TERM_MAX_LENGTH)
  term: string;

  @ApiProperty({ example: 'political', description: 'Free label: letters, digits, _ and -' })
  @Transform(trim)
  @IsString()
  @Matches(CATEGORY_PATTERN, { message: CATEGORY_MESSAGE })
  category: string;

  @ApiProperty({ enum: TERM_LEVELS, description: 'block refuses a submission, warn flags it' })
  @Transform(lower)
  @IsIn(TERM_LEVELS)
  level: TermLevel;

  @ApiPropertyOptional({
    default: false,
    description: 'An allow-list phrase: terms found inside it are not reported',
  })
  @IsOptional()
  @IsBoolean()
  allow?: boolean;
}

/** Any of the fields; `null` is refused (every field has a value). */
export class UpdateTermDto {
  @ApiPropertyOptional({ maxLength: TERM_MAX_LENGTH })
  @ValidateIf((_, v) => v !== undefined)
  @Transform(trim)
  @IsString()
  @IsNotEmpty()
  @MaxLength(TERM_MAX_LENGTH)
  term?: string;

  @ApiPropertyOptional()
  @ValidateIf((_, v) => v !== undefined)
  @Transform(trim)
  @IsString()
  @Matches(CATEGORY_PATTERN, { message: CATEGORY_MESSAGE })
  category?: string;

  @ApiPropertyOptional({ enum: TERM_LEVELS })
  @ValidateIf((_, v) => v !== undefined)
  @Transform(lower)
  @IsIn(TERM_LEVELS)
  level?: TermLevel;

  @ApiPropertyOptional()
  @ValidateIf((_, v) => v !== undefined)
  @IsBoolean()
  allow?: boolean;
}

export class ListTermsQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'Part of the term, as written or normalised' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  q?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(32)
  category?: string;

  @ApiPropertyOptional({ enum: TERM_LEVELS })
  @IsOptional()
  @IsIn(TERM_LEVELS)
  level?: TermLevel;

  @ApiPropertyOptional()
  @IsOptional()
  @Transform(bool)
  @IsBoolean()
  allow?: boolean;
}

/** Text to screen; `body` is HTML and is screened as the text a reader sees. */
export class CheckDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(10_000)
  title?: string | null;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(10_000)
  summary?: string | null;

  @ApiPropertyOptional({ description: 'HTML; hit offsets refer to its text form' })
  @IsOptional()
  @IsString()
  @MaxLength(2_000_000)
  body?: string | null;
}
