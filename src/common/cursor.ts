import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { AppException } from 'src/common/app.exception';
import { ErrorCode } from 'src/common/error-code';

/** `true`/`false` in a query string; `Type(() => Boolean)` would read "false" as true. */
export function queryBoolean({ value }: { value: unknown }): unknown {
  if (value === 'true' || value === true) return true;
  if (value === 'false' || value === false) return false;
  return value;
}

/**
 * Keyset paging for lists that grow without bound. A page reads `pageSize + 1`
 * rows from an index in sort order, starting after the last row the client saw;
 * no OFFSET, no COUNT unless the client asks for one with `count=true`.
 */
export class CursorPageQuery {
  @ApiPropertyOptional({ description: 'The `nextCursor` of the previous page (opaque)' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  pageSize?: number = 50;

  @ApiPropertyOptional({ description: 'Also answer `total`, an exact count (costs a scan)' })
  @IsOptional()
  @Transform(queryBoolean)
  @IsBoolean()
  count?: boolean;
}

export interface CursorPage<T> {
  items: T[];
  nextCursor: string | null;
  pageSize: number;
  /** Only when the query had `count=true`. */
  total?: number;
}

/** The parts of a sort key: a timestamp (ISO 8601 in the cursor), a string id or an integer id. */
export type KeyPart = 'time' | 'id' | 'int';
type KeyValue<K extends KeyPart> = K extends 'time' ? Date : K extends 'int' ? number : string;
export type KeyValues<S extends readonly KeyPart[]> = { [I in keyof S]: KeyValue<S[I]> };

export function encodeCursor(values: readonly (Date | string | number)[]): string {
  const plain = values.map((v) => (v instanceof Date ? v.toISOString() : v));
  return Buffer.from(JSON.stringify(plain), 'utf8').toString('base64url');
}

function malformed(): AppException {
  return new AppException(ErrorCode.VALIDATION_FAILED, 'Invalid input: cursor', [
    { field: 'cursor', errors: ['cursor is not one this list handed out'] },
  ]);
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/** The sort key in a cursor, checked part by part against the list's key shape; 400 otherwise. */
export function decodeCursor<S extends readonly KeyPart[]>(raw: string, shape: S): KeyValues<S> {
  if (!/^[A-Za-z0-9_-]+$/.test(raw)) throw malformed();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw malformed();
  }
  if (!Array.isArray(parsed) || parsed.length !== shape.length) throw malformed();
  return shape.map((kind, i) => {
    const v: unknown = parsed[i];
    if (kind === 'time') {
      if (typeof v !== 'string' || !ISO.test(v) || Number.isNaN(Date.parse(v))) throw malformed();
      return new Date(v);
    }
    if (kind === 'int') {
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw malformed();
      return v;
    }
    if (typeof v !== 'string' || v.length === 0 || v.length > 64) throw malformed();
    return v;
  }) as KeyValues<S>;
}

/** The page out of `pageSize + 1` rows read in order: the extra row only says there is more. */
export function keysetPage<R, T>(
  rows: R[],
  pageSize: number,
  keyOf: (row: R) => readonly (Date | string | number)[],
  map: (rows: R[]) => T[],
): CursorPage<T> {
  const more = rows.length > pageSize;
  const page = rows.slice(0, pageSize);
  return {
    items: map(page),
    nextCursor: more ? encodeCursor(keyOf(page[page.length - 1])) : null,
    pageSize,
  };
}

export function mapPage<R, T>(page: CursorPage<R>, fn: (row: R) => T): CursorPage<T> {
  return { ...page, items: page.items.map(fn) };
}
