/**
 * Roles and what they may do. The GraphQL schema names a permission on every root field
 * (`@requires`); this table is the only place that maps roles to permissions.
 */
export const ROLES = ['email-system', 'data-scientist', 'leadership', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = ['SHIPMENTS_READ', 'EMAIL_SEND', 'MODELS_READ', 'MODELS_TRAIN', 'REPORTS_READ', 'KEYS_MANAGE', 'SCORES_READ', 'POLICY_EVAL_READ'] as const;
export type Permission = (typeof PERMISSIONS)[number];

const GRANTS: Record<Role, readonly Permission[]> = {
  'email-system': ['SHIPMENTS_READ', 'EMAIL_SEND', 'SCORES_READ'],
  'data-scientist': ['MODELS_READ', 'MODELS_TRAIN', 'SCORES_READ'],
  leadership: ['MODELS_READ', 'REPORTS_READ'],
  admin: PERMISSIONS,
};

export function isRole(s: string): s is Role {
  return (ROLES as readonly string[]).includes(s);
}

export function isPermission(s: string): s is Permission {
  return (PERMISSIONS as readonly string[]).includes(s);
}

/** True when `role` grants `permission`. */
export function roleAllows(role: Role, permission: Permission): boolean {
  return GRANTS[role].includes(permission);
}

/** The permissions a role grants, for docs and `keys list`. */
export function permissionsOf(role: Role): readonly Permission[] {
  return GRANTS[role];
}
