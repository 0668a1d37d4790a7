import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

/**
 * Beyond these a page is refused (400), not handed to the database as an offset
 * it cannot take (`page=1e300` is an integer to JavaScript). Deep offsets cost
 * the database a scan of everything before them; lists that need to go further
 * use cursors.
 */
export const PAGE_LIMITS = { maxPage: 10_000, maxPageSize: 200 } as const;

export class PageQuery {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(PAGE_LIMITS.maxPage)
  page?: number = 1;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(PAGE_LIMITS.maxPageSize)
  pageSize?: number = 50;
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}

export function pageWindow(q: PageQuery): {
  skip: number;
  take: number;
  page: number;
  pageSize: number;
} {
  const page = q.page ?? 1;
  const pageSize = q.pageSize ?? 50;
  return { skip: (page - 1) * pageSize, take: pageSize, page, pageSize };
}
