import { Logger } from '@nestjs/common';
import type { ArgumentsHost } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import { AllExceptionsFilter } from 'src/common/http-exception.filter';
import { safeError } from 'src/common/log-safe';

const SQL = 'UPDATE users SET passwordHash = ? WHERE username = ?';
const PARAMS = ['$argon2id$secret-hash', 'alice'];

function queryFailed(): QueryFailedError {
  const driver = Object.assign(new Error(`Duplicate entry 'alice' for key 'username'`), {
    code: 'ER_DUP_ENTRY_X',
    errno: 1062,
    sql: SQL,
  });
  return new QueryFailedError(SQL, PARAMS, driver);
}

describe('log lines without SQL, parameters or values', () => {
  it('names a database error by its driver code only', () => {
    const line = JSON.stringify(safeError(queryFailed()));
    expect(line).toContain('ER_DUP_ENTRY_X');
    for (const leak of ['UPDATE users', 'secret-hash', 'alice']) expect(line).not.toContain(leak);
  });

  it('the exception filter logs a 5xx from the database without its query', () => {
    const logged: unknown[] = [];
    const spy = jest
      .spyOn(Logger.prototype, 'error')
      .mockImplementation((...args: unknown[]) => void logged.push(args));
    const res = { status: () => res, json: () => res, setHeader: () => res, headersSent: false };
    const host = {
      switchToHttp: () => ({ getResponse: () => res, getRequest: () => ({ id: 'r1' }) }),
    } as unknown as ArgumentsHost;
    try {
      new AllExceptionsFilter().catch(queryFailed(), host);
    } finally {
      spy.mockRestore();
    }
    const line = JSON.stringify(logged);
    expect(line).toContain('ER_DUP_ENTRY_X');
    for (const leak of ['UPDATE users', 'secret-hash', 'alice']) expect(line).not.toContain(leak);
  });
});
