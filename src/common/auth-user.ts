import type { Role } from 'src/common/roles';

/** The signed-in caller, as services see it. Loaded fresh from the database on every request. */
export interface AuthUser {
  id: string;
  username: string;
  displayName: string;
  departmentId: string;
  roles: Role[];
  sessionId: string;
}

export function hasRole(user: Pick<AuthUser, 'roles'>, ...roles: Role[]): boolean {
  return roles.some((r) => user.roles.includes(r));
}
