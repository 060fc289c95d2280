import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { Type } from 'typebox';
import { GENERIC_UNAUTHENTICATED, invalid, RuneError, shown, UNSTORABLE } from '../core/errors.js';
import { redactSecrets } from '../core/tokenFormat.js';
import { StoreAuditSink, type AuditSink } from './audit.js';
import { Authenticator, type AuthResult } from './authn.js';
import { YamlText } from './body.js';
import type { DaemonConfig } from './config.js';
import { EXPIRES_HEADER, expiresSoon, ROTATED_HEADER } from '../core/expiry.js';
import { audit, fullEvent, peerOf, wasAudited, type App, type Ctx } from './context.js';
import { Keyring } from './kek.js';
import { FailureAudit } from './failureAudit.js';
import { FailureLimiter } from './limiter.js';
import { IssuerKeyCache } from './oidc.js';
import { Metrics } from './metrics.js';
import { ChangeFeed } from './store/changeFeed.js';
import { OldSecretAudit } from './oldSecretAudit.js';
import { OPENAPI, withTokenHeaders } from './openapi.js';
import { sharedSerializers } from './serializers.js';
import { schemaError, type SchemaError } from './validation.js';
import { auditRoutes } from './routes/audit.js';
import { authzRoutes } from './routes/authz.js';
import { bootstrapRoutes } from './routes/bootstrap.js';
import { healthRoutes } from './routes/health.js';
import { namespaceRoutes } from './routes/namespaces.js';
import { policyRoutes } from './routes/policies.js';
import { registryRoutes } from './routes/registries.js';
import { serviceAccountRoutes } from './routes/serviceaccounts.js';
import { tokenRoutes } from './routes/tokens.js';
import { oidcExchangeRoutes, trustRoutes } from './routes/trusts.js';
import { userRoutes } from './routes/users.js';
import { whoamiRoutes } from './routes/whoami.js';
import type { Store } from './store/index.js';

export interface ServerOptions {
  /** Where JSON log lines go (default stdout). */
  logStream?: NodeJS.WritableStream;
  audit?: AuditSink;
  keyring?: Keyring;
}

export interface Daemon {
  app: FastifyInstance;
  ctx: Ctx;
  /** Periodic work: purging old tokens, forgetting old rate-limit windows. */
  sweep(now?: number): Promise<void>;
  /** Writes the batched lastUsedAt updates (every second, and at shutdown). */
  flush(final?: boolean): Promise<void>;
  state: { closing: boolean };
}

const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'];

/** The property names a schema allows at a JSON pointer (for "did you mean"). */
function propertiesAt(schema: unknown, pointer: string): string[] {
  let node = schema as { properties?: Record<string, unknown>; items?: unknown; anyOf?: unknown[] } | undefined;
  for (const part of pointer.split('/').slice(1)) {
    node = node?.anyOf?.find((b) => (b as { type?: string }).type !== 'null') as typeof node ?? node;
    node = (/^\d+$/.test(part) ? node?.items : node?.properties?.[part]) as typeof node;
  }
  node = node?.anyOf?.find((b) => (b as { type?: string }).type !== 'null') as typeof node ?? node;
  return Object.keys(node?.properties ?? {});
}

/** The path of the first string or key in `value` holding unstorable text, or undefined. */
function findUnstorable(value: unknown): string | undefined {
  // Iterative: a body may nest deeper than the call stack.
  const pending: [unknown, string][] = [[value, '']];
  while (pending.length > 0) {
    const [item, path] = pending.pop()!;
    if (typeof item === 'string') {
      if (UNSTORABLE.test(item)) return path || 'the top level';
    } else if (item !== null && typeof item === 'object') {
      for (const [key, child] of Object.entries(item)) {
        const at = Array.isArray(item) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
        if (UNSTORABLE.test(key)) return `a key in ${path || 'the top level'}`;
        pending.push([child, at]);
      }
    }
  }
  return undefined;
}

/** Which path parameter or query parameter holds a NUL character, if one does. */
function unstorableInUrl(params: unknown, query: unknown): { kind: string; key: string } | undefined {
  for (const [kind, values] of [['path parameter', params], ['query parameter', query]] as const) {
    for (const [key, value] of Object.entries((values ?? {}) as Record<string, unknown>)) {
      const texts = Array.isArray(value) ? value : [value];
      if (key.includes('\u0000') || texts.some((t) => typeof t === 'string' && t.includes('\u0000'))) return { kind, key };
    }
  }
  return undefined;
}

/** An error body with anything shaped like a secret taken out of its message (a pasted token in a URL, say). */
const redactBody = (error: RuneError) => {
  const body = error.toBody();
  body.error.message = redactSecrets(body.error.message);
  return body;
};

/** 503 while the store's database is out of reach. */
const storeUnreachable = () =>
  new RuneError('unavailable', 'the database is unreachable: runed will not answer from what it saw before; retry shortly', { reason: 'store_unreachable' });

/** What a hook hands fastify's `done`: always an Error, since `done(undefined)` would let the request through. */
export const asError = (e: unknown): FastifyError =>
  (e instanceof Error ? e : new Error(`a hook failed with a non-error value: ${String(e)}`)) as FastifyError;

/** Builds the HTTP server; listening is the caller's business, so tests can also use `inject`. */
export async function buildDaemon(config: DaemonConfig, store: Store, serverKey: Buffer, options: ServerOptions = {}): Promise<Daemon> {
  const logger: FastifyServerOptions['logger'] = {
    level: config.log.level,
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization'], censor: '[redacted]' },
    serializers: {
      req: (req: { method: string; url: string; socket?: { remoteAddress?: string } }) => ({
        method: req.method,
        url: redactSecrets(req.url),
        remoteAddress: req.socket?.remoteAddress,
      }),
    },
    ...(options.logStream ? { stream: options.logStream } : {}),
  };
  const https = config.tls.certFile && config.tls.keyFile
    ? { key: readFileSync(config.tls.keyFile), cert: readFileSync(config.tls.certFile) }
    : null;
  const app = Fastify({
    logger,
    bodyLimit: config.limits.bodyBytes,
    trustProxy: false,
    return503OnClosing: true,
    // A slow or silent client cannot hold a connection open forever, nor can many clients exhaust them.
    serverFactory: (handler) => {
      const { requestTimeout, headersTimeout, keepAliveTimeout, maxConnections } = config.limits;
      const timeouts = { requestTimeout, headersTimeout, keepAliveTimeout, connectionsCheckingInterval: Math.max(100, Math.min(requestTimeout, headersTimeout) / 4) };
      const server = https ? createHttpsServer({ ...https, ...timeouts }, handler) : createHttpServer(timeouts, handler);
      server.maxConnections = maxConnections;
      return server;
    },
    // Today's strictness under schemas: no coercion ("ttl": 3600 stays a 400), unknown fields refused, not dropped.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
    // Each distinct response schema compiled once, however many routes answer with it.
    schemaController: { compilersFactory: { buildSerializer: sharedSerializers } },
    // One line per request, written by the onResponse hook below instead of fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    // Errors fastify raises before routing (a malformed URL) get the same error body as ours.
    frameworkErrors: (error, _req, reply) => {
      const body = new RuneError('invalid_argument', `the request URL is malformed: ${error.message}`).toBody();
      void (reply as unknown as { code(n: number): { send(b: unknown): unknown } }).code(400).send(body);
    },
  }) as unknown as FastifyInstance;

  const keyring = options.keyring ?? (await Keyring.open(config.dataDir, store));
  const state = { closing: false };
  const metrics = new Metrics(store);
  const feed = store.engine.changes;
  if (feed instanceof ChangeFeed) {
    feed.events.onPropagated = (seconds) => metrics.observePropagation(seconds);
    feed.events.onLost = (err) => app.log.error({ err }, 'lost the database: authenticated requests get 503 until it is back');
    feed.events.onRegained = () => app.log.info('the database is reachable again: caches start empty, requests are served');
  }
  const limiter = new FailureLimiter(config.auth.failedAuthLimit, config.auth.failedAuthWindow, config.auth.failedAuthPerSecond);
  const authn = new Authenticator(store, serverKey, (err) => app.log.warn({ err }, 'could not record lastUsedAt'));
  const ctx: Ctx = { config, store, serverKey, authn, audit: options.audit ?? new StoreAuditSink(store.audit, app.log), keyring };

  app.decorateRequest('principal', null);
  app.decorateRequest('previousSecretUntil', null);

  // YAML is accepted where a route says so (policies); elsewhere it is a 415, before any validation.
  // Hooks here take a callback rather than being async functions: each request runs them, and a
  // promise per hook per request showed in the profile of a cached list.
  app.addHook('preValidation', (req, _reply, done) => {
    if (req.body instanceof YamlText && !(req.routeOptions.config as { yaml?: boolean } | undefined)?.yaml) {
      return done(new RuneError('unsupported_media_type', 'this route takes a JSON body (Content-Type: application/json)') as unknown as FastifyError);
    }
    // A NUL in a name or a search (%00) can match nothing, and PostgreSQL cannot even compare it:
    // the same 400, naming the part, on either engine (a lone surrogate never decodes from a URL).
    const where = (req.url.includes('%00') || req.url.includes('\u0000')) && unstorableInUrl(req.params, req.query);
    if (where) {
      const named = JSON.stringify(shown(where.key.replaceAll('\u0000', '\uFFFD')));
      return done(invalid(`${where.kind} ${named} holds a NUL character (\\u0000), which no name or text here can contain`, { field: shown(where.key) }) as unknown as FastifyError);
    }
    done();
  });

  // Our own JSON parser: its errors never echo the body back (it may hold a secret).
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, text, done) => {
    const body = String(text);
    if (body.trim() === '') return done(null, undefined);
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch (e) {
      const position = /position (\d+)/.exec((e as Error).message)?.[1];
      return done(invalid(`request body is not valid JSON${position ? ` (at byte ${position})` : ''}`) as unknown as FastifyError, undefined);
    }
    // A lone surrogate (\ud800) cannot be stored as UTF-8, nor NUL (\u0000) in PostgreSQL: refused on either engine.
    const broken = body.includes('\\u') ? findUnstorable(value) : undefined;
    if (broken !== undefined) return done(invalid(`request body holds text that cannot be stored (a lone surrogate or a NUL character) at ${broken}`, { field: broken }) as unknown as FastifyError, undefined);
    done(null, value);
  });
  app.addContentTypeParser(YAML_TYPES, { parseAs: 'string' }, (_req, text, done) => done(null, new YamlText(String(text))));

  const ACTIONS: Record<string, string> = { POST: 'create', PUT: 'update', PATCH: 'update', DELETE: 'delete' };
  /** A failed write by an authenticated caller is an audit event too (outcome "error"). */
  const auditFailure = (req: FastifyRequest, error: RuneError) => {
    const action = ACTIONS[req.method];
    if (!action || !req.principal || wasAudited(req)) return;
    // The route's own template and parameters, as the router decoded them: never the raw URL.
    const resource = (req.routeOptions.url ?? '').split('/')[2] ?? '';
    const params = (req.params ?? {}) as Record<string, string | undefined>;
    const ref = params.name ?? params.id;
    audit(ctx, req, { action, resource, ...(ref ? { ref } : {}), outcome: 'error', message: `${error.code}: ${error.message}` });
  };

  // The answer waits for the audit events of the request: a client reading the trail next finds them.
  app.setErrorHandler(async (err: FastifyError | RuneError, req, reply) => {
    if (err instanceof RuneError) {
      // The trail lives in the unreachable database: trying to record there would only hold the answer up.
      if (err.details?.reason === 'store_unreachable') return reply.code(err.status).send(redactBody(err));
      auditFailure(req, err);
      await ctx.audit.idle();
      return reply.code(err.status).send(redactBody(err));
    }
    const e = err as FastifyError;
    if ((e as { unavailable?: unknown }).unavailable === true) {
      // Nothing can be recorded either: the trail is in the same database. The loss itself is logged once.
      req.log.debug({ err: e }, 'store unreachable');
      return reply.code(503).send(redactBody(storeUnreachable()));
    }
    let mapped: RuneError;
    if (e.validation) {
      const schema = (req.routeOptions.schema as Record<string, unknown> | undefined)?.[e.validationContext === 'querystring' ? 'querystring' : e.validationContext ?? 'body'];
      mapped = schemaError(req, e.validationContext, e.validation as SchemaError[], (path) => propertiesAt(schema, path));
    } else if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      mapped = new RuneError('payload_too_large', `request body is larger than the limit of ${config.limits.bodyBytes} bytes`);
    } else if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      mapped = new RuneError('unsupported_media_type', `unsupported Content-Type "${req.headers['content-type'] ?? ''}": send application/json (or application/yaml for a policy)`);
    } else if (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500) {
      mapped = invalid(e.message);
    } else {
      req.log.error({ err: e }, 'request failed');
      mapped = new RuneError('internal', 'internal error: see the daemon log');
    }
    auditFailure(req, mapped);
    await ctx.audit.idle();
    return reply.code(mapped.status).send(redactBody(mapped));
  });

  app.setNotFoundHandler((req, reply) => {
    const error = new RuneError('not_found', `no route for ${req.method} ${req.url.split('?')[0]}`);
    return reply.code(404).send(redactBody(error));
  });

  // The OpenAPI document is generated from the routes' schemas; routes are declared in plugins
  // registered after it, so that it sees every one of them.
  void app.register(swagger, { openapi: OPENAPI, transformObject: (doc) => withTokenHeaders(('openapiObject' in doc ? doc.openapiObject : doc.swaggerObject) as Parameters<typeof withTokenHeaders>[0]) });
  void app.register(async (open: App) => {
    healthRoutes(open, ctx, state);
    const text = { tags: ['health'], security: [], response: { 200: Type.String() } };
    open.get('/metrics', { schema: { ...text, summary: 'Prometheus metrics (text format)' } }, async (_req, reply) => reply.type(metrics.contentType).send(await metrics.render()));
    open.get('/openapi.json', { schema: { tags: ['health'], security: [], summary: 'This API, described as OpenAPI 3.1', hide: true } }, async () => app.swagger());
    bootstrapRoutes(open, ctx);
    // Takes no bearer token (the CI job's OIDC token is its credential), so it lives outside the /v1 scope.
    oidcExchangeRoutes(open, ctx, { keys: new IssuerKeyCache(), countFailure });
  });
  // Successful requests are logged at debug (the audit trail records what matters); failures at info.
  app.addHook('onResponse', (req, reply, done) => {
    try {
      const status = reply.statusCode;
      metrics.countRequest(req.method, req.routeOptions.url ?? 'unmatched', status, reply.elapsedTime / 1000);
      const level = status >= 500 ? 'error' : status >= 400 ? 'info' : 'debug';
      if ((req.log as unknown as { isLevelEnabled(l: string): boolean }).isLevelEnabled(level)) {
        req.log[level]({ method: req.method, url: redactSecrets(req.url.split('?')[0] ?? ''), status, ms: Math.round(reply.elapsedTime * 10) / 10, remoteAddress: peerOf(req) }, 'request');
      }
    } finally {
      done();
    }
  });

  // CORS is off unless origins are listed; a listed origin gets its preflight answered before auth.
  const origins = new Set(config.cors.allowedOrigins);
  if (origins.size > 0) {
    app.addHook('onRequest', async (req, reply) => {
      const origin = req.headers.origin;
      if (!origin || !origins.has(origin)) return;
      // A browser client may read the token warnings only if they are exposed to it.
      reply.header('Access-Control-Allow-Origin', origin).header('Vary', 'Origin').header('Access-Control-Expose-Headers', `${EXPIRES_HEADER}, ${ROTATED_HEADER}`);
      if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
        reply
          .header('Access-Control-Allow-Methods', 'GET, POST, PUT, PATCH, DELETE')
          .header('Access-Control-Allow-Headers', 'Authorization, Content-Type')
          .header('Access-Control-Max-Age', '600');
        return reply.code(204).send();
      }
    });
  }

  const failures = new FailureAudit((event) => ctx.audit.record(event), config.auth.failedAuthWindow);

  /** A failed authentication (a bearer token or an OIDC exchange), counted per network for the limiter. */
  const countFailure = (req: FastifyRequest, reason: string) => {
    const peer = peerOf(req) ?? 'unknown';
    metrics.countAuthFailure(reason);
    const retryAfter = limiter.retryAfter(peer);
    if (retryAfter === 0) limiter.recordFailure(peer);
    return { retryAfter, first: failures.note(peer, retryAfter > 0 ? 'rate_limited' : reason) };
  };

  const oldSecretUses = new OldSecretAudit((event) => ctx.audit.record(event));

  /** Sets the request's principal or throws its refusal; a promise only when the authenticator had to read the store. */
  const authenticate = (req: FastifyRequest, reply: FastifyReply): void | Promise<void> => {
    // Fail closed: a replica that cannot see the database cannot know what was revoked meanwhile.
    if (!store.available) throw storeUnreachable();
    const now = Date.now();
    const pending = authn.authenticate(req.headers.authorization, now);
    return pending instanceof Promise ? pending.then((result) => admit(req, reply, result, now)) : admit(req, reply, pending, now);
  };

  const admit = (req: FastifyRequest, reply: FastifyReply, result: AuthResult, now: number): void => {
    if (result.ok) {
      req.principal = result.principal;
      const expiresAt = result.principal.token.expires_at;
      if (expiresSoon(expiresAt, now)) reply.header(EXPIRES_HEADER, new Date(expiresAt!).toISOString());
      if (result.previousSecret) {
        const until = new Date(result.previousSecret.until).toISOString();
        req.previousSecretUntil = result.previousSecret.until;
        reply.header(ROTATED_HEADER, until);
        const tokenId = result.principal.token.id;
        // Not audit(): that would mark the request as recorded, and its own failure would go unrecorded.
        const event = fullEvent(req, { action: 'old-secret', resource: 'tokens', ref: tokenId, outcome: 'success', message: `used the secret a rotation replaced; it works until ${until}` });
        oldSecretUses.note(tokenId, event, now);
      }
      return;
    }
    const { retryAfter, first } = countFailure(req, result.reason);
    if (first) {
      audit(ctx, req, {
        action: 'authenticate',
        resource: 'tokens',
        ...(result.tokenId ? { ref: result.tokenId } : {}),
        outcome: 'denied',
        message: retryAfter > 0 ? 'rate_limited' : result.reason,
      });
    }
    if (retryAfter > 0) {
      reply.header('Retry-After', String(retryAfter));
      throw new RuneError('rate_limited', `too many failed authentications from this network; retry in ${retryAfter}s`);
    }
    reply.header('WWW-Authenticate', 'Bearer');
    throw new RuneError('unauthenticated', GENERIC_UNAUTHENTICATED);
  };

  // Authentication is a hook of the scope the /v1 routes live in, never a test of the URL string:
  // whatever spelling of a path the router accepts, the handler it reaches is behind this hook.
  void app.register(async (scope: App) => {
    scope.addHook('onRequest', (req, reply, done) => {
      let pending: void | Promise<void>;
      try {
        pending = authenticate(req, reply);
      } catch (e) {
        return done(asError(e));
      }
      // Whatever is thrown or rejected, even undefined, refuses the request: it never passes it on.
      if (pending) pending.then(() => done(), (e: unknown) => done(asError(e)));
      else done();
    });
    whoamiRoutes(scope, ctx);
    userRoutes(scope, ctx);
    policyRoutes(scope, ctx);
    tokenRoutes(scope, ctx);
    namespaceRoutes(scope, ctx);
    auditRoutes(scope, ctx, state);
    registryRoutes(scope, ctx);
    serviceAccountRoutes(scope, ctx);
    trustRoutes(scope, ctx);
    authzRoutes(scope, ctx);
  });

  const sweep = async (now = Date.now()) => {
    limiter.sweep(now);
    failures.flush(now);
    authn.sweep(now);
    const purged = await store.transaction(async (tx) => {
      // One replica at a time sweeps; the others find the lock taken and leave it to that one.
      if (store.engine.dialect === 'postgres' && !(await tx.meta.tryLock('sweep'))) return 0;
      await tx.trusts.purgeSeen(now);
      return tx.tokens.purge(now - config.auth.tokenRetention);
    });
    if (purged > 0) app.log.info({ purged }, 'purged expired and revoked tokens');
  };

  const flush = async (final = false) => {
    oldSecretUses.flush(Date.now(), final);
    failures.flush(Date.now(), final);
    await authn.flushLastUsed();
    await ctx.audit.idle();
  };
  return { app, ctx, sweep, flush, state };
}
