import type { ValueTransformer } from 'typeorm';

/** MySQL returns BIGINT as string; the sequence stays well below 2^53. */
export const bigintNumber: ValueTransformer = {
  to: (v?: number | null) => v,
  from: (v: string | number | null) => (v === null || v === undefined ? v : Number(v)),
};

/** SQLite returns booleans as 0/1. */
export const booleanValue: ValueTransformer = {
  to: (v?: boolean | null) => v,
  from: (v: boolean | number | null) => (v === null || v === undefined ? v : Boolean(v)),
};

export const jsonText: ValueTransformer = {
  to: (v: unknown) => (v === undefined ? undefined : v === null ? null : JSON.stringify(v)),
  from: (v: string | null) => (v === null || v === undefined ? v : JSON.parse(v)),
};

export const commaList: ValueTransformer = {
  to: (v?: string[] | null) => (v ? v.join(',') : v),
  from: (v: string | null) => (v ? v.split(',').filter(Boolean) : []),
};
