import got, { RequestError, type Got, type Method } from 'got';
import { readFileSync } from 'node:fs';
import type { ErrorCode } from '../core/errors.js';
import { ApiError } from './errors.js';

export { ApiError };
import type { AuditRecord, CreatedToken, LintResponse, List, Namespace, Policy, Registry, ServiceAccount, Token, User, Whoami } from '../core/wire.js';

export type { AuditRecord as AuditEvent, Registry };

export interface ClientOptions {
  server: string;
  token?: string;
  caFile?: string;
  timeoutMs?: number;
}

/** `localhost:7863` → `http://localhost:7863`; a URL with a scheme is kept. */
export function serverUrl(server: string): string {
  const trimmed = server.trim().replace(/\/+$/, '');
  return /^https?:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`;
}

export interface CheckAnswer {
  allowed: boolean;
  reason: string;
  decidedBy?: { policy: string; rule: { resource: string; verbs: string[]; namespace?: string }; index: number };
  closest?: { policy: string; rule: { resource: string; verbs: string[]; namespace?: string }; index: number; differs: string[] };
  subject: { name: string; type: string };
  policies: string[];
  tokenPolicies?: string[];
}

export interface CreatedServiceAccount {
  serviceAccount: ServiceAccount;
  policy?: Policy;
  policies?: Policy[];
  token: Token;
  secret: string;
  warnings?: string[];
}

export type Query = Record<string, string | number | undefined>;
export type ListQuery = {
  search?: string | undefined;
  sort?: string | undefined;
};
const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'PUT', 'DELETE']);
const enc = encodeURIComponent;

/** A typed client for runed: one method per endpoint, retries only on idempotent calls. */
export class RuneClient {
  readonly baseUrl: string;
  private readonly http: Got;

  constructor(options: ClientOptions) {
    this.baseUrl = serverUrl(options.server);
    this.http = got.extend({
      prefixUrl: this.baseUrl,
      timeout: { request: options.timeoutMs ?? 15_000 },
      throwHttpErrors: false,
      retry: { limit: 0 },
      headers: {
        'user-agent': 'rune-cli',
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      },
      ...(options.caFile ? { https: { certificateAuthority: readFileSync(options.caFile) } } : {}),
    });
  }

  async request<T>(method: Method, path: string, opts: { json?: unknown; yaml?: string; query?: Query } = {}): Promise<T> {
    const searchParams: Record<string, string | number> = {};
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined && v !== '') searchParams[k] = v;
    let res;
    try {
      res = await this.http(path.replace(/^\//, ''), {
        method,
        searchParams,
        // A refused connection fails at once (the daemon is not running); resets and timeouts are retried.
        retry: {
          limit: IDEMPOTENT.has(method) ? 2 : 0,
          methods: ['GET', 'PUT', 'DELETE'],
          errorCodes: ['ETIMEDOUT', 'ECONNRESET', 'EPIPE', 'EAI_AGAIN'],
          statusCodes: [502, 503, 504],
        },
        ...(opts.json !== undefined ? { json: opts.json } : {}),
        ...(opts.yaml !== undefined ? { body: opts.yaml, headers: { 'content-type': 'application/yaml' } } : {}),
      });
    } catch (e) {
      const err = e as RequestError;
      throw new ApiError('unavailable', `cannot reach runed at ${this.baseUrl} (${err.code ?? err.message})`, 0, { cause: err.code, server: this.baseUrl });
    }
    let body: unknown;
    try {
      body = res.body ? JSON.parse(res.body) : undefined;
    } catch {
      throw new ApiError('internal', `runed at ${this.baseUrl} answered ${res.statusCode} with a body that is not JSON`, res.statusCode);
    }
    if (res.statusCode >= 400) {
      const error = (body as { error?: { code: ErrorCode; message: string; details?: Record<string, unknown> } } | undefined)?.error;
      throw new ApiError(error?.code ?? 'internal', error?.message ?? `HTTP ${res.statusCode}`, res.statusCode, error?.details);
    }
    return body as T;
  }

  /** Every page of a list, followed by cursor. */
  async all<T>(path: string, query: Query = {}): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.request<List<T>>('GET', path, { query: { ...query, limit: 1000, cursor } });
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return items;
  }

  bootstrap = () => this.request<CreatedToken>('POST', '/v1/bootstrap');
  whoami = () => this.request<Whoami>('GET', '/v1/whoami');

  /** `search` and `sort` as the list endpoints take them (GET /v1/tokens?search=…&sort=-created). */
  listUsers = (query: ListQuery = {}) => this.all<User>('/v1/users', query);
  listUsersPage = (query: Query) => this.request<List<User>>('GET', '/v1/users', { query });
  getUser = (name: string) => this.request<User>('GET', `/v1/users/${enc(name)}`);
  upsertUser = (body: { name: string; email?: string }) => this.request<User>('POST', '/v1/users', { json: body });
  deleteUser = (name: string) => this.request<{ user: User; revokedTokens: number }>('DELETE', `/v1/users/${enc(name)}`);
  attachToUser = (name: string, policy: string) => this.request<User>('PUT', `/v1/users/${enc(name)}/policies/${enc(policy)}`);
  detachFromUser = (name: string, policy: string) => this.request<User>('DELETE', `/v1/users/${enc(name)}/policies/${enc(policy)}`);

  listServiceAccounts = (query: ListQuery = {}) => this.all<ServiceAccount>('/v1/serviceaccounts', query);
  listServiceAccountsPage = (query: Query) => this.request<List<ServiceAccount>>('GET', '/v1/serviceaccounts', { query });
  getServiceAccount = (name: string) => this.request<ServiceAccount & { tokens: Token[] }>('GET', `/v1/serviceaccounts/${enc(name)}`);
  createServiceAccount = (body: { name: string; namespace?: string; permissions?: string[]; ttl?: string; description?: string }) =>
    this.request<CreatedServiceAccount>('POST', '/v1/serviceaccounts', { json: body });
  deleteServiceAccount = (name: string) =>
    this.request<{ serviceAccount: ServiceAccount; revokedTokens: number; removedPolicies: string[] }>('DELETE', `/v1/serviceaccounts/${enc(name)}`);
  attachToServiceAccount = (name: string, policy: string) => this.request<ServiceAccount>('PUT', `/v1/serviceaccounts/${enc(name)}/policies/${enc(policy)}`);
  detachFromServiceAccount = (name: string, policy: string) => this.request<ServiceAccount>('DELETE', `/v1/serviceaccounts/${enc(name)}/policies/${enc(policy)}`);

  listPolicies = () => this.all<Policy>('/v1/policies');
  getPolicy = (name: string) => this.request<Policy & { source?: string; attachedTo: { name: string; type: string }[] }>('GET', `/v1/policies/${enc(name)}`);
  createPolicy = (yaml: string) => this.request<Policy & { warnings?: LintResponse['warnings'] }>('POST', '/v1/policies', { yaml });
  replacePolicy = (name: string, yaml: string) => this.request<Policy & { warnings?: LintResponse['warnings'] }>('PUT', `/v1/policies/${enc(name)}`, { yaml });
  deletePolicy = (name: string) => this.request<{ policy: Policy; detachedFrom: { name: string; type: string }[] }>('DELETE', `/v1/policies/${enc(name)}`);
  lintPolicy = (yaml: string) => this.request<LintResponse>('POST', '/v1/policies/lint', { yaml });

  listTokens = (filter: ListQuery & { subject?: string; status?: string } = {}) => this.all<Token>('/v1/tokens', filter);
  listTokensPage = (query: Query) => this.request<List<Token>>('GET', '/v1/tokens', { query });
  getToken = (id: string) => this.request<Token>('GET', `/v1/tokens/${enc(id)}`);
  createToken = (body: { name?: string; subjectName?: string; subjectId?: string; policies?: string[]; ttl?: string; description?: string }) =>
    this.request<CreatedToken>('POST', '/v1/tokens', { json: body });
  updateToken = (id: string, body: { description?: string; ttl?: string | null; enabled?: boolean }) => this.request<Token>('PATCH', `/v1/tokens/${enc(id)}`, { json: body });
  revokeToken = (id: string) => this.request<Token>('DELETE', `/v1/tokens/${enc(id)}`);

  listNamespaces = () => this.all<Namespace>('/v1/namespaces');
  createNamespace = (name: string) => this.request<Namespace>('POST', '/v1/namespaces', { json: { name } });
  deleteNamespace = (name: string) => this.request<Namespace>('DELETE', `/v1/namespaces/${enc(name)}`);

  listRegistries = () => this.all<Registry>('/v1/registries');
  getRegistry = (name: string) => this.request<Registry>('GET', `/v1/registries/${enc(name)}`);
  addRegistry = (body: Record<string, unknown>) => this.request<Registry>('POST', '/v1/registries', { json: body });
  replaceRegistry = (name: string, body: Record<string, unknown>) => this.request<Registry>('PUT', `/v1/registries/${enc(name)}`, { json: body });
  removeRegistry = (name: string) => this.request<Registry>('DELETE', `/v1/registries/${enc(name)}`);

  audit = (query: { actor?: string; action?: string; outcome?: string; resource?: string; since?: string; search?: string; limit?: number; cursor?: string }) =>
    this.request<List<AuditRecord>>('GET', '/v1/audit', { query });
  check = (body: { subject?: string; token?: string; verb: string; resource: string; namespace?: string; policy?: string }) =>
    this.request<CheckAnswer>('POST', '/v1/authz/check', { json: body });
}
