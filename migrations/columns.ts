import type { QueryRunner, TableColumnOptions } from 'typeorm';

/** Column shapes shared by the migrations, so one set serves MySQL and SQLite alike. */
export const col = {
  id: (name = 'id'): TableColumnOptions => ({
    name,
    type: 'varchar',
    length: '36',
    isPrimary: true,
  }),
  ref: (name: string, nullable = false): TableColumnOptions => ({
    name,
    type: 'varchar',
    length: '36',
    isNullable: nullable,
  }),
  str: (name: string, length: number, nullable = false): TableColumnOptions => ({
    name,
    type: 'varchar',
    length: String(length),
    isNullable: nullable,
  }),
  bool: (name: string, dflt: boolean): TableColumnOptions => ({
    name,
    type: 'boolean',
    default: dflt ? 1 : 0,
  }),
  int: (name: string, dflt?: number): TableColumnOptions => ({
    name,
    type: 'int',
    ...(dflt === undefined ? {} : { default: dflt }),
  }),
  time: (name: string, nullable = false): TableColumnOptions => ({
    name,
    type: 'datetime',
    precision: 3,
    isNullable: nullable,
  }),
  /** Text up to a few MB: MEDIUMTEXT on MySQL, TEXT (unbounded) on SQLite. */
  text: (q: QueryRunner, name: string, nullable = true): TableColumnOptions => ({
    name,
    type: q.connection.driver.options.type === 'mysql' ? 'mediumtext' : 'text',
    isNullable: nullable,
  }),
};
