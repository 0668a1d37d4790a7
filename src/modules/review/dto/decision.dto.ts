import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  IsBoolean,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { CursorPageQuery } from 'src/common/cursor';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

/** 自审承诺: each must be true (checked in the service: 422 ATTESTATION_REQUIRED). */
export class AttestationDto {
  @ApiProperty({ description: 'The content is factual' })
  @IsOptional()
  @IsBoolean()
  factual?: boolean;
  @ApiProperty({ description: 'Its sources are named' })
  @IsOptional()
  @IsBoolean()
  sourced?: boolean;
  @ApiProperty({ description: 'It is free of politically sensitive or harmful content' })
  @IsOptional()
  @IsBoolean()
  noSensitiveContent?: boolean;
  @ApiProperty({ description: 'Its images are licensed' })
  @IsOptional()
  @IsBoolean()
  imagesLicensed?: boolean;
}

export class SubmitDto {
  @ApiProperty({ description: 'The revision the author attests (must be current)' })
  @IsString()
  @IsNotEmpty()
  revisionId: string;

  @ApiProperty({ type: AttestationDto })
  @IsObject()
  @ValidateNested()
  @Type(() => AttestationDto)
  attestation: AttestationDto;
}

export class ApproveDto {
  @ApiProperty({ description: 'The revision the reviewer read (must be current)' })
  @IsString()
  @IsNotEmpty()
  revisionId: string;

  @ApiPropertyOptional()
  @IsOptional()
  @Transform(trim)
  @IsString()
  @MaxLength(2000)
  comment?: string;
}

export class RejectDto {
  @ApiProperty({ description: 'The revision the reviewer read (must be current)' })
  @IsString()
  @IsNotEmpty()
  revisionId: string;

  @ApiProperty({ description: 'Why it is returned (required)' })
  @Transform(trim)
  @IsString()
  @IsNotEmpty({ message: 'reason is required' })
  @MaxLength(2000)
  reason: string;
}

export class RetractDto {
  @ApiProperty({ description: 'Why it is taken down (required)' })
  @Transform(trim)
  @IsString()
  @IsNotEmpty({ message: 'reason is required' })
  @MaxLength(2000)
  reason: string;
}

export class PlainActionDto {
  @ApiPropertyOptional()
  @IsOptional()
  @Transform(trim)
  @IsString()
  @MaxLength(2000)
  comment?: string;
}

export class InboxQuery extends CursorPageQuery {}
