import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ErrorCode } from '../core/errors.js';
import { ApiError } from './errors.js';

export { ApiError };
import type { AuditRecord, CheckAnswer, CreatedServiceAccount, CreatedToken, ExchangedToken, LintResponse, List, Namespace, Policy, PolicyImpact, Registry, RotatedToken, ServiceAccount, Token, TokenBulkAnswer, TokenBulkInput, Trust, TrustInput, User, WhoCanAnswer, Whoami } from '../core/wire.js';

export type { AuditRecord as AuditEvent, CheckAnswer, CreatedServiceAccount, PolicyImpact, Registry, TokenBulkAnswer, TokenBulkInput, Trust, TrustInput, WhoCanAnswer };

export interface ClientOptions {
  server: string;
  token?: string;
  caFile?: string;
  timeoutMs?: number;
  /** Told about the token headers of each answer (Rune-Token-Expires, Rune-Token-Rotated), as RFC 3339 times. */
  onTokenNotice?: (notice: TokenNotice) => void;
}

export interface TokenNotice {
  /** The token expires soon (within 7 days): when. */
  expiresAt?: string;
  /** The request used a secret a rotation replaced: when that secret stops working. */
  rotatedUntil?: string;
}

/** `localhost:7863` → `http://localhost:7863`; a URL with a scheme is kept. */
export function serverUrl(server: string): string {
  const trimmed = server.trim().replace(/\/+$/, '');
  return /^https?:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`;
}

export type Query = Record<string, string | number | undefined>;
/** `search` and `sort` as the list endpoints take them (GET /v1/tokens?search=…&sort=-created). */
export type ListQuery = {
  search?: string | undefined;
  sort?: string | undefined;
};
type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'PUT', 'DELETE']);
/** Failures worth another try on an idempotent call; a refused connection is not (the daemon is not running). */
const RETRY_CODES: ReadonlySet<string> = new Set(['ETIMEDOUT', 'ECONNRESET', 'EPIPE', 'EAI_AGAIN']);
const RETRY_STATUS: ReadonlySet<number> = new Set([502, 503, 504]);
const enc = encodeURIComponent;

interface RawReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A typed client for runed: one method per endpoint, retries only on idempotent calls. It speaks
 * node:http(s) directly: an HTTP library costs a command more start-up time than the call itself.
 */
export class RuneClient {
  readonly baseUrl: string;
  private readonly url: URL;
  private readonly headers: Record<string, string>;
  private readonly ca: Buffer | undefined;
  private readonly timeoutMs: number;
  private readonly onTokenNotice: ((notice: TokenNotice) => void) | undefined;

  constructor(options: ClientOptions) {
    this.baseUrl = serverUrl(options.server);
    this.url = new URL(this.baseUrl);
    this.headers = { 'user-agent': 'rune-cli', accept: 'application/json', ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) };
    this.ca = options.caFile ? readFileSync(options.caFile) : undefined;
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.onTokenNotice = options.onTokenNotice;
  }

  private send(method: Method, path: string, body: { type: string; data: string } | undefined): Promise<RawReply> {
    const https = this.url.protocol === 'https:';
    const headers = body ? { ...this.headers, 'content-type': body.type, 'content-length': String(Buffer.byteLength(body.data)) } : this.headers;
    const options = { method, host: this.url.hostname, port: this.url.port || (https ? 443 : 80), path: `${this.url.pathname.replace(/\/$/, '')}${path}`, headers, ...(https && this.ca ? { ca: this.ca } : {}) };
    return new Promise((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.setTimeout(this.timeoutMs, () => req.destroy(Object.assign(new Error(`no answer within ${this.timeoutMs / 1000}s`), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      req.end(body?.data);
    });
  }

  async request<T>(method: Method, path: string, opts: { json?: unknown; yaml?: string; query?: Query } = {}): Promise<T> {
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined && v !== '') search.set(k, String(v));
    const target = `${path}${search.size > 0 ? `?${search}` : ''}`;
    const body = opts.json !== undefined ? { type: 'application/json', data: JSON.stringify(opts.json) } : opts.yaml !== undefined ? { type: 'application/yaml', data: opts.yaml } : undefined;
    const attempts = IDEMPOTENT.has(method) ? 3 : 1;
    let res: RawReply | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        res = await this.send(method, target, body);
        if (attempt < attempts && RETRY_STATUS.has(res.status)) continue;
        break;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (attempt < attempts && code !== undefined && RETRY_CODES.has(code)) continue;
        throw new ApiError('unavailable', `cannot reach runed at ${this.baseUrl} (${code ?? (e as Error).message})`, 0, { cause: code, server: this.baseUrl });
      }
    }
    const expiresAt = res.headers['rune-token-expires'];
    const rotatedUntil = res.headers['rune-token-rotated'];
    if (this.onTokenNotice && (typeof expiresAt === 'string' || typeof rotatedUntil === 'string')) {
      this.onTokenNotice({ ...(typeof expiresAt === 'string' ? { expiresAt } : {}), ...(typeof rotatedUntil === 'string' ? { rotatedUntil } : {}) });
    }
    let parsed: unknown;
    try {
      parsed = res.body ? JSON.parse(res.body) : undefined;
    } catch {
      throw new ApiError('internal', `runed at ${this.baseUrl} answered ${res.status} with a body that is not JSON`, res.status);
    }
    if (res.status >= 400) {
      const error = (parsed as { error?: { code: ErrorCode; message: string; details?: Record<string, unknown> } } | undefined)?.error;
      throw new ApiError(error?.code ?? 'internal', error?.message ?? `HTTP ${res.status}`, res.status, error?.details);
    }
    return parsed as T;
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
    this.request<{ serviceAccount: ServiceAccount; revokedTokens: number; removedPolicies: string[]; removedTrusts?: string[] }>('DELETE', `/v1/serviceaccounts/${enc(name)}`);
  attachToServiceAccount = (name: string, policy: string) => this.request<ServiceAccount>('PUT', `/v1/serviceaccounts/${enc(name)}/policies/${enc(policy)}`);
  detachFromServiceAccount = (name: string, policy: string) => this.request<ServiceAccount>('DELETE', `/v1/serviceaccounts/${enc(name)}/policies/${enc(policy)}`);

  listTrusts = (filter: { serviceAccount?: string } = {}) => this.all<Trust>('/v1/trusts', filter);
  getTrust = (name: string) => this.request<Trust>('GET', `/v1/trusts/${enc(name)}`);
  createTrust = (body: TrustInput) => this.request<Trust>('POST', '/v1/trusts', { json: body });
  deleteTrust = (name: string) => this.request<Trust>('DELETE', `/v1/trusts/${enc(name)}`);
  /** Needs no token: the CI job's OIDC token is the credential. */
  exchangeOidc = (body: { trust: string; jwt: string }) => this.request<ExchangedToken>('POST', '/v1/auth/oidc/exchange', { json: body });

  listPolicies = () => this.all<Policy>('/v1/policies');
  getPolicy = (name: string) => this.request<Policy & { source?: string; attachedTo: { name: string; type: string }[] }>('GET', `/v1/policies/${enc(name)}`);
  createPolicy = (yaml: string) => this.request<Policy & { warnings?: LintResponse['warnings'] }>('POST', '/v1/policies', { yaml });
  replacePolicy = (name: string, yaml: string) => this.request<Policy & { warnings?: LintResponse['warnings'] }>('PUT', `/v1/policies/${enc(name)}`, { yaml });
  /** With dryRun, nothing is deleted: the answer says who would lose which rights. */
  deletePolicy = (name: string, opts: { dryRun?: boolean } = {}) =>
    this.request<{ policy: Policy; detachedFrom: { name: string; type: string }[]; impact: PolicyImpact; dryRun?: true }>('DELETE', `/v1/policies/${enc(name)}${opts.dryRun ? '?dryRun=true' : ''}`);
  lintPolicy = (yaml: string) => this.request<LintResponse>('POST', '/v1/policies/lint', { yaml });
  /** What saving `yaml` as policy `name` would change, without saving it. */
  policyImpact = (name: string, yaml: string) => this.request<PolicyImpact>('POST', `/v1/policies/${enc(name)}/impact`, { yaml });

  listTokens = (filter: ListQuery & { subject?: string; status?: string; expiresWithin?: string; selector?: string } = {}) => this.all<Token>('/v1/tokens', filter);
  listTokensPage = (query: Query) => this.request<List<Token>>('GET', '/v1/tokens', { query });
  getToken = (id: string) => this.request<Token>('GET', `/v1/tokens/${enc(id)}`);
  createToken = (body: { name?: string; subjectName?: string; subjectId?: string; policies?: string[]; ttl?: string; description?: string }) =>
    this.request<CreatedToken>('POST', '/v1/tokens', { json: body });
  updateToken = (id: string, body: { description?: string; ttl?: string | null; enabled?: boolean }) => this.request<Token>('PATCH', `/v1/tokens/${enc(id)}`, { json: body });
  /** A new secret for the token; the old one works for `grace` ("0": stops at once; omitted: the daemon's default, 1h). */
  rotateToken = (id: string, body: { grace?: string } = {}) => this.request<RotatedToken>('POST', `/v1/tokens/${enc(id)}/rotate`, { json: body });
  revokeToken = (id: string) => this.request<Token>('DELETE', `/v1/tokens/${enc(id)}`);
  /** Every live token a selector matches, all or nothing (never the caller's own); dryRun only lists them. */
  revokeTokens = (body: TokenBulkInput) => this.request<TokenBulkAnswer>('POST', '/v1/tokens/revoke', { json: body });
  disableTokens = (body: TokenBulkInput) => this.request<TokenBulkAnswer>('POST', '/v1/tokens/disable', { json: body });

  listNamespaces = () => this.all<Namespace>('/v1/namespaces');
  createNamespace = (name: string) => this.request<Namespace>('POST', '/v1/namespaces', { json: { name } });
  deleteNamespace = (name: string) => this.request<Namespace>('DELETE', `/v1/namespaces/${enc(name)}`);

  listRegistries = () => this.all<Registry>('/v1/registries');
  getRegistry = (name: string) => this.request<Registry>('GET', `/v1/registries/${enc(name)}`);
  addRegistry = (body: Record<string, unknown>) => this.request<Registry>('POST', '/v1/registries', { json: body });
  replaceRegistry = (name: string, body: Record<string, unknown>) => this.request<Registry>('PUT', `/v1/registries/${enc(name)}`, { json: body });
  removeRegistry = (name: string) => this.request<Registry>('DELETE', `/v1/registries/${enc(name)}`);

  audit = (query: { actor?: string; action?: string; outcome?: string; resource?: string; since?: string; search?: string; limit?: number; cursor?: string; after?: number; wait?: string }) =>
    this.request<List<AuditRecord>>('GET', '/v1/audit', { query });
  check = (body: { subject?: string; token?: string; verb: string; resource: string; namespace?: string; policy?: string }) =>
    this.request<CheckAnswer>('POST', '/v1/authz/check', { json: body });
  whoCan = (query: { verb: string; resource: string; namespace?: string }) => this.request<WhoCanAnswer>('GET', '/v1/authz/who-can', { query });
}
