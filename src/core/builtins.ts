import type { PolicyDocument } from './policy.js';

const ALL = '*';

/** The five built-in policies of §4, seeded at every start, immutable and undeletable. */
export const BUILTIN_POLICIES: readonly PolicyDocument[] = [
  {
    name: 'root',
    description: 'Everything, everywhere. Emergency access only.',
    rules: [{ resource: ALL, verbs: [ALL], namespace: ALL }],
  },
  {
    name: 'admin',
    description: 'Everything, everywhere. Operators.',
    rules: [{ resource: ALL, verbs: [ALL], namespace: ALL }],
  },
  {
    name: 'readwrite',
    description: 'Manage workloads in every namespace; no identities. Service developers.',
    rules: [
      {
        resource: ALL,
        verbs: ['get', 'list', 'watch', 'create', 'update', 'delete', 'scale', 'exec'],
        namespace: ALL,
      },
    ],
  },
  {
    name: 'readonly',
    description: 'Read workloads in every namespace. Dashboards, on-call.',
    rules: [{ resource: ALL, verbs: ['get', 'list', 'watch'], namespace: ALL }],
  },
  {
    name: 'cast',
    description: 'What CI deploys need: cast services, read instances and logs.',
    rules: [
      { resource: 'services', verbs: ['get', 'list', 'create', 'update', 'scale'], namespace: ALL },
      { resource: 'instances', verbs: ['get', 'list', 'watch'], namespace: ALL },
      { resource: 'configmaps', verbs: ['get', 'list', 'create', 'update'], namespace: ALL },
      { resource: 'secrets', verbs: ['get', 'list', 'create', 'update'], namespace: ALL },
      { resource: 'namespaces', verbs: ['get', 'list', 'create'], namespace: ALL },
      { resource: 'logs', verbs: ['get'], namespace: ALL },
    ],
  },
];

export const BUILTIN_NAMES: ReadonlySet<string> = new Set(BUILTIN_POLICIES.map((p) => p.name));
export const SEEDED_NAMESPACES = ['default', 'system'] as const;
