import { BUILTIN_POLICIES } from './builtins.js';
import type { PolicyDocument } from './policy.js';

/** Permission shorthands of `rune admin service create --permissions` and the built-ins they resolve to. */
export const PERMISSIONS = {
  cast: { policy: 'cast', summary: 'CI deploys: cast services, read instances and logs (recommended for CI)' },
  read: { policy: 'readonly', summary: 'Dashboards and monitoring: read workloads' },
  admin: { policy: 'admin', summary: 'Full access, identities included: use sparingly' },
} as const;

export type Permission = keyof typeof PERMISSIONS;
export const PERMISSION_NAMES = Object.keys(PERMISSIONS) as Permission[];

export const isPermission = (p: string): p is Permission => Object.hasOwn(PERMISSIONS, p);

/** `namespaces` is cluster-scoped: its rules stay unpinned so a deploy can still create its namespace. */
const CLUSTER_SCOPED = new Set(['namespaces']);

/**
 * The policy a service account pinned to `namespace` gets for `permission`: a copy of the built-in
 * named `<service>-<permission>` with every rule pinned to the namespace, except cluster-scoped ones.
 */
export function derivedPolicy(service: string, permission: Permission, namespace: string): PolicyDocument {
  const builtin = BUILTIN_POLICIES.find((p) => p.name === PERMISSIONS[permission].policy)!;
  return {
    name: `${service}-${permission}`,
    description: `${builtin.name} for service account ${service}, pinned to namespace ${namespace}`,
    rules: builtin.rules.map((rule) => ({ ...rule, verbs: [...rule.verbs], namespace: CLUSTER_SCOPED.has(rule.resource) ? '*' : namespace })),
  };
}

/** The policies a service account gets: derived copies with a namespace, the built-ins as they are without. */
export function serviceAccountPolicies(service: string, permissions: Permission[], namespace?: string): { attach: string[]; create: PolicyDocument[] } {
  if (namespace === undefined) return { attach: permissions.map((p) => PERMISSIONS[p].policy), create: [] };
  const create = permissions.map((p) => derivedPolicy(service, p, namespace));
  return { attach: create.map((p) => p.name), create };
}
