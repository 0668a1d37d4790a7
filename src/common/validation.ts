import { ValidationError, ValidationPipe } from '@nestjs/common';
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
