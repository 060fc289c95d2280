/**
 * The identities of the escalation matrix (issue 11): delegated rights, narrowed tokens and service
 * accounts. Shared by the matrix and by the who-can/can-i agreement test.
 */

export type Rule = { resource: string; verbs: string[]; namespace?: string };

export const CUSTOM_POLICIES: Record<string, Rule[]> = {
  'p-tokens-all': [{ resource: 'tokens', verbs: ['*'] }],
  'p-pol-cu': [{ resource: 'policies', verbs: ['create', 'update', 'get', 'list'] }],
  'p-pol-bind': [{ resource: 'policies', verbs: ['bind', 'get', 'list'] }],
  'p-pol-bind-users': [
    { resource: 'policies', verbs: ['bind', 'get', 'list'] },
    { resource: 'users', verbs: ['create', 'update', 'get', 'list'] },
  ],
  'p-pol-esc': [{ resource: 'policies', verbs: ['escalate', 'create', 'update', 'get', 'list'] }],
  'p-users-cu': [{ resource: 'users', verbs: ['create', 'update', 'get', 'list'] }],
  'p-sa-create': [{ resource: 'serviceaccounts', verbs: ['create', 'get', 'list'] }],
  'p-custom': [{ resource: 'services', verbs: ['get', 'list'], namespace: 'dev' }],
};

export type IdentityName =
  | 'tokensStar'
  | 'tokensStarNarrowed'
  | 'policiesCreateUpdate'
  | 'policiesBind'
  | 'policiesBindAndUsers'
  | 'policiesEscalate'
  | 'usersCreateUpdate'
  | 'serviceaccountsCreate'
  | 'readwrite'
  | 'readonly'
  | 'rootNarrowedReadonly'
  | 'saAdminInDev'
  | 'saAdmin'
  | 'narrowedToCustom';

export interface IdentitySpec {
  /** A user (created with these policies), a service account, or root itself. */
  kind: 'user' | 'sa' | 'root';
  policies?: string[];
  sa?: { permissions: string[]; namespace?: string };
  /** The identity's token is narrowed to these policies. */
  narrowing?: string[];
}

export const IDENTITIES: Record<IdentityName, IdentitySpec> = {
  tokensStar: { kind: 'user', policies: ['p-tokens-all'] },
  tokensStarNarrowed: { kind: 'user', policies: ['p-tokens-all', 'readwrite'], narrowing: ['readonly'] },
  policiesCreateUpdate: { kind: 'user', policies: ['p-pol-cu'] },
  policiesBind: { kind: 'user', policies: ['p-pol-bind'] },
  policiesBindAndUsers: { kind: 'user', policies: ['p-pol-bind-users'] },
  policiesEscalate: { kind: 'user', policies: ['p-pol-esc'] },
  usersCreateUpdate: { kind: 'user', policies: ['p-users-cu'] },
  serviceaccountsCreate: { kind: 'user', policies: ['p-sa-create'] },
  readwrite: { kind: 'user', policies: ['readwrite'] },
  readonly: { kind: 'user', policies: ['readonly'] },
  rootNarrowedReadonly: { kind: 'root', narrowing: ['readonly'] },
  saAdminInDev: { kind: 'sa', sa: { permissions: ['admin'], namespace: 'dev' } },
  saAdmin: { kind: 'sa', sa: { permissions: ['admin'] } },
  narrowedToCustom: { kind: 'user', policies: ['readwrite', 'p-tokens-all'], narrowing: ['p-custom'] },
};
