import { ValidationError, ValidationPipe } from '@nestjs/common';
import { buildMessage, ValidateBy, ValidateIf, ValidationOptions } from 'class-validator';
import { AppException } from 'src/common/app.exception';
import { ErrorCode } from 'src/common/error-code';

export interface FieldError {
  field: string;
  errors: string[];
}

/** Flattens nested class-validator errors into `[{field: 'a.b', errors: [...]}]`. */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const e of errors) {
    const field = parent ? `${parent}.${e.property}` : e.property;
    if (e.constraints) out.push({ field, errors: Object.values(e.constraints) });
    if (e.children?.length) out.push(...flattenValidationErrors(e.children, field));
  }
  return out;
}

export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: false,
    exceptionFactory: (errors) => {
      const details = flattenValidationErrors(errors);
      return new AppException(
        ErrorCode.VALIDATION_FAILED,
        `Invalid input: ${details.map((d) => d.field).join(', ')}`,
        details,
      );
    },
  });
}

const CALENDAR_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?(Z|[+-](\d{2}):(\d{2}))?)?$/;

/**
 * `YYYY-MM-DD` or `YYYY-MM-DDTHH:mm[:ss[.sss]][Z|±hh:mm]`, naming a day that
 * exists. ISO 8601's other forms (week dates `2026-W10`, ordinal `2027-100`,
 * basic `20271201`) are refused: JavaScript's Date does not read them alike.
 */
export function isCalendarDateTime(value: unknown): boolean {
  if (typeof value !== 'string' || value.length > 35) return false;
  const m = CALENDAR_DATE_TIME.exec(value);
  if (!m) return false;
  const [, y, mo, d, h, mi, s, , oh, om] = m;
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1) return false;
  if (day > new Date(Date.UTC(Number(y), month, 0)).getUTCDate()) return false;
  if (h !== undefined && (Number(h) > 23 || Number(mi) > 59)) return false;
  if (s !== undefined && Number(s) > 59) return false;
  if (oh !== undefined && (Number(oh) > 23 || Number(om) > 59)) return false;
  return !Number.isNaN(new Date(value).getTime());
}

/** Replaces @IsISO8601 on every body field and query filter: see `isCalendarDateTime`. */
export function IsCalendarDateTime(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isCalendarDateTime',
      validator: {
        validate: (value) => isCalendarDateTime(value),
        defaultMessage: buildMessage(
          (each) =>
            `${each}$property must be a date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:mm[:ss[.sss]][Z|±hh:mm])`,
          options,
        ),
      },
    },
    options,
  );
}

/**
 * An array of at most `max` items, all distinct: the length is checked first and a
 * longer array is refused without looking at its items. Used instead of
 * @ArrayMaxSize + @ArrayUnique, whose uniqueness check is quadratic and runs
 * whatever the length (class-validator runs every decorator).
 */
export function IsBoundedUniqueArray(max: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isBoundedUniqueArray',
      constraints: [max],
      validator: {
        validate: (value) =>
          Array.isArray(value) &&
          value.length <= max &&
          new Set(value.map((v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v))))
            .size === value.length,
        defaultMessage: buildMessage(
          () => `$property must be an array of at most $constraint1 distinct items`,
          options,
        ),
      },
    },
    options,
  );
}

/**
 * What is wrong with the shape of a parsed JSON body, if anything: nesting deeper
 * than `maxDepth`, or an array or object with more than `maxItems` entries.
 * Iterative (no recursion), and it stops at the first problem.
 */
export function jsonShapeProblem(
  value: unknown,
  limits: { maxDepth: number; maxItems: number },
): 'depth' | 'items' | null {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > limits.maxDepth) return 'depth';
    const children = Array.isArray(v) ? (v as unknown[]) : Object.values(v as object);
    if (children.length > limits.maxItems) return 'items';
    for (const child of children) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return null;
}

/**
 * The field may be left out, but `null` is not a value: it is validated (and so
 * refused by @IsString, @IsBoolean…). @IsOptional lets null through, and a null
 * written to a NOT NULL column was a 500. Use @IsOptional only where null means
 * "clear it".
 */
export function IsOmittable(options?: ValidationOptions): PropertyDecorator {
  return ValidateIf((_object, value) => value !== undefined, options);
}
