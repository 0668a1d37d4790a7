export enum Role {
  EDITOR = 'editor',
  DEPT_REVIEWER = 'dept_reviewer',
  PROPAGANDA_REVIEWER = 'propaganda_reviewer',
  AUDITOR = 'auditor',
  ADMIN = 'admin',
}

export const ALL_ROLES: Role[] = Object.values(Role);
