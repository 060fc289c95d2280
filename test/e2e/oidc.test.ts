import { SignJWT, UnsecuredJWT, exportSPKI, importJWK, type JWTPayload } from 'jose';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestIssuer, type IssuerKey } from '../helpers/oidcIssuer.js';
import { Runed } from '../helpers/runed.js';
import { withTestDb } from '../helpers/storeDb.js';

const AUDIENCE = 'https://runed.example/stg';
const REPO = 'acme/api';
const SUB = `repo:${REPO}:ref:refs/heads/main`;

describe('OIDC exchange: a CI job\'s token for a short-lived rune token', () => {
  let issuer: TestIssuer;
  let key: IssuerKey;
  let runed: Runed;
  let root: string;

  /** A JWT the trust "gh-stg" accepts, with `claims` over it. */
  const jobToken = (claims: JWTPayload = {}, signWith: IssuerKey = key) => issuer.sign(signWith, { aud: AUDIENCE, sub: SUB, repository: REPO, ref: 'refs/heads/main', ...claims });
  const exchange = (jwt: string, trust = 'gh-stg') => runed.request('POST', '/v1/auth/oidc/exchange', { body: { trust, jwt } });
  const createTrust = (body: Record<string, unknown>, token = root) => runed.request('POST', '/v1/trusts', { token, body: { issuer: issuer.url, audience: AUDIENCE, ...body } });

  beforeAll(async () => {
    issuer = await TestIssuer.start();
    key = await issuer.newKey('RS256');
    runed = await Runed.start();
    root = await runed.bootstrap();
    expect((await runed.request('POST', '/v1/serviceaccounts', { token: root, body: { name: 'deployer', namespace: 'stg', permissions: ['cast'], ttl: '1h' } })).status).toBe(201);
    const trust = await createTrust({ name: 'gh-stg', serviceAccount: 'deployer', claims: { sub: SUB, repository: REPO }, ttl: '10m' });
    expect(trust.status).toBe(201);
    expect(trust.body).toMatchObject({ name: 'gh-stg', serviceAccount: 'deployer', ttl: '10m', allowGlob: false, claims: { repository: REPO, sub: SUB } });
    expect(trust.body.warnings).toBeUndefined();
  });
  afterAll(async () => {
    await runed.cleanup();
    await issuer.close();
  });

  it('a good exchange answers a token that works, carries the service account\'s policies and expires at the trust\'s TTL', async () => {
    const jwt = await jobToken();
    const res = await exchange(jwt);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ trust: 'gh-stg', serviceAccount: 'deployer', token: { subjectName: 'deployer', subjectType: 'service', status: 'active', policies: [] } });
    expect(Date.parse(res.body.token.expiresAt) - Date.parse(res.body.token.createdAt)).toBe(10 * 60_000);
    expect(JSON.stringify(res.body)).not.toContain(jwt);

    const secret = res.body.secret as string;
    const me = await runed.request('GET', '/v1/whoami', { token: secret });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ subject: { name: 'deployer', type: 'service' }, policies: ['deployer-cast'] });
    const allowed = async (verb: string, resource: string, namespace: string) =>
      (await runed.request('POST', '/v1/authz/check', { token: secret, body: { verb, resource, namespace } })).body.allowed;
    expect(await allowed('create', 'services', 'stg')).toBe(true);
    expect(await allowed('create', 'services', 'prod')).toBe(false);
    expect(issuer.count('/.well-known/openid-configuration')).toBe(1);
  });

  const refusals: [string, () => Promise<string>, string, RegExp][] = [
    ['a wrong issuer', () => jobToken({ iss: 'http://127.0.0.1:1' }), 'issuer', /issuer is not the trust's issuer/],
    ['a wrong audience', () => jobToken({ aud: 'https://runed.example/prod' }), 'audience', /audience is not the trust's audience/],
    ['a wrong sub', () => jobToken({ sub: `repo:${REPO}:ref:refs/heads/feature` }), 'claim', /claim "sub" of the token does not match/],
    ['a wrong repository (another bound claim)', () => jobToken({ repository: 'mallory/api' }), 'claim', /claim "repository" of the token does not match/],
    ['an expired token (beyond 60 s of skew)', () => jobToken({ iat: Math.floor(Date.now() / 1000) - 600, nbf: undefined, exp: Math.floor(Date.now() / 1000) - 120 }), 'expired', /has expired/],
    ['a token not yet valid (beyond 60 s of skew)', () => jobToken({ nbf: Math.floor(Date.now() / 1000) + 120 }), 'not_yet_valid', /not valid yet/],
    ['alg: none', () => Promise.resolve(new UnsecuredJWT({ iss: issuer.url, aud: AUDIENCE, sub: SUB, repository: REPO, exp: Math.floor(Date.now() / 1000) + 300 }).encode()), 'algorithm', /signed with "none" algorithm: only RS256 and ES256/],
    [
      'HS256 with the issuer\'s public key as the secret',
      async () => {
        const pem = await exportSPKI((await importJWK(key.publicJwk, 'RS256')) as CryptoKey);
        const now = Math.floor(Date.now() / 1000);
        return new SignJWT({ iss: issuer.url, aud: AUDIENCE, sub: SUB, repository: REPO, exp: now + 300 }).setProtectedHeader({ alg: 'HS256', kid: key.kid }).sign(new TextEncoder().encode(pem));
      },
      'algorithm',
      /signed with "HS256" algorithm: only RS256 and ES256/,
    ],
    [
      'a signature by another key under the issuer\'s kid',
      async () => jobToken({}, { ...(await issuer.newKey('RS256', key.kid, false)) }),
      'signature',
      /signature does not verify/,
    ],
  ];

  it.each(refusals)('%s is refused with 401 naming the check, and no token is minted', async (_case, makeJwt, reason, message) => {
    const tokensBefore = (await runed.request('GET', '/v1/tokens?subject=deployer&limit=1000', { token: root })).body.items.length;
    const jwt = await makeJwt();
    const res = await exchange(jwt);
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ code: 'unauthenticated', details: { reason } });
    expect(res.body.error.message).toMatch(message);
    expect(JSON.stringify(res.body)).not.toContain(jwt.split('.')[1]);
    expect((await runed.request('GET', '/v1/tokens?subject=deployer&limit=1000', { token: root })).body.items.length).toBe(tokensBefore);
  });

  it('an unknown kid after a key rotation at the issuer: the keys are refreshed once, then it is accepted', async () => {
    const rotated = await issuer.newKey('ES256');
    issuer.publishOnly(rotated);
    const fetches = issuer.count('/jwks');
    const res = await exchange(await jobToken({}, rotated));
    expect(res.status).toBe(201);
    expect(issuer.count('/jwks')).toBe(fetches + 1);

    // A second unknown kid within the minute does not make runed fetch again.
    const stray = await issuer.newKey('ES256', 'never-published', false);
    const refused = await exchange(await jobToken({}, stray));
    expect(refused.status).toBe(401);
    expect(refused.body.error.details.reason).toBe('signature');
    expect(issuer.count('/jwks')).toBe(fetches + 1);
    key = rotated;
  });

  it('a replayed JWT is refused, with or without a jti, also after runed restarts', async () => {
    const jwt = await jobToken();
    expect((await exchange(jwt)).status).toBe(201);
    const replay = await exchange(jwt);
    expect(replay.status).toBe(401);
    expect(replay.body.error).toMatchObject({ details: { reason: 'replay' } });
    expect(replay.body.error.message).toMatch(/already exchanged/);

    const withoutJti = await jobToken({ jti: undefined });
    expect((await exchange(withoutJti)).status).toBe(201);
    expect((await exchange(withoutJti)).body.error.details.reason).toBe('replay');

    // The memory is in the database: a restarted runed still refuses the token.
    await runed.stop();
    runed = await Runed.start([], { dataDir: runed.dataDir });
    expect((await exchange(jwt)).body.error.details.reason).toBe('replay');
    // What is kept is a hash, never the token.
    const keys = await withTestDb(runed, (db) => db.all<{ key: string }>('SELECT key FROM oidc_seen'));
    expect(keys.length).toBeGreaterThanOrEqual(2);
    for (const { key: k } of keys) expect(k).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a glob in a claim value is refused without allowGlob; with it the trust matches and the linter warns', async () => {
    const refused = await createTrust({ name: 'gh-branches', serviceAccount: 'deployer', claims: { repository: REPO, ref: 'refs/heads/*' } });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ details: { field: 'claims.ref' } });
    expect(refused.body.error.message).toMatch(/"refs\/heads\/\*" is a pattern: patterns are refused unless allowGlob is true/);
    expect((await runed.request('GET', '/v1/trusts/gh-branches', { token: root })).status).toBe(404);

    const allowed = await createTrust({ name: 'gh-branches', serviceAccount: 'deployer', claims: { repository: REPO, ref: 'refs/heads/*' }, allowGlob: true });
    expect(allowed.status).toBe(201);
    expect(allowed.body.warnings).toEqual(['claim "ref" is a pattern ("refs/heads/*"): every value it matches is let in']);
    expect((await exchange(await jobToken({ ref: 'refs/heads/feature-x' }), 'gh-branches')).status).toBe(201);
    expect((await exchange(await jobToken({ ref: 'refs/tags/v1' }), 'gh-branches')).body.error.details.reason).toBe('claim');

    const loose = await createTrust({ name: 'env-only', serviceAccount: 'deployer', claims: { environment: 'stg' } });
    expect(loose.status).toBe(201);
    expect(loose.body.warnings).toEqual([expect.stringMatching(/pins neither "repository" nor "sub" exactly/)]);
    expect((await runed.request('DELETE', '/v1/trusts/env-only', { token: root })).status).toBe(200);
  });

  it('hostile but signed tokens: a fractional or huge exp, a claim named like an inherited property, a long claim against many stars', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const exp of [now + 600.1234, 1e16, 1e300]) {
      const res = await exchange(await jobToken({ exp }));
      expect(res.status, `exp ${exp}: ${JSON.stringify(res.body)}`).toBe(201);
    }
    // A bound claim the token lacks is absent, even when every object inherits a property of that name.
    expect((await createTrust({ name: 'odd-claim', serviceAccount: 'deployer', claims: { sub: SUB, repository: REPO, toString: 'x' } })).status).toBe(201);
    const odd = await exchange(await jobToken(), 'odd-claim');
    expect(odd.status, JSON.stringify(odd.body)).toBe(401);
    expect(odd.body.error.details.reason).toBe('claim');
    // A pattern of many stars against a 10 KB claim (near the JWT's 16 KB limit) answers at once: a backtracking regex would hang runed.
    expect((await createTrust({ name: 'many-stars', serviceAccount: 'deployer', allowGlob: true, claims: { repository: REPO, sub: '*a*a*a*a*a*a*a*a*b' } })).status).toBe(201);
    const slow = await exchange(await jobToken({ sub: 'a'.repeat(10_000) }), 'many-stars');
    expect(slow.body.error?.details.reason, JSON.stringify(slow.body).slice(0, 300)).toBe('claim');
    expect((await exchange(await jobToken({ sub: `${'a'.repeat(10_000)}b` }), 'many-stars')).status).toBe(201);
    expect((await runed.request('GET', '/healthz')).status).toBe(200);
    for (const name of ['odd-claim', 'many-stars']) expect((await runed.request('DELETE', `/v1/trusts/${name}`, { token: root })).status).toBe(200);
  });

  it('an issuer whose discovery document never ends is cut off at 512 KB: a clear 503, and runed keeps its memory', async () => {
    let sent = 0;
    const endless = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const more = () => {
        while (!res.destroyed && sent < 64 * 1024 * 1024 && res.write(chunk)) sent += chunk.length;
        if (!res.destroyed && sent < 64 * 1024 * 1024) res.once('drain', more);
      };
      more();
    });
    await new Promise<void>((resolve) => endless.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(endless.address() as AddressInfo).port}`;
      expect((await runed.request('POST', '/v1/trusts', { token: root, body: { name: 'endless', issuer: url, audience: AUDIENCE, serviceAccount: 'deployer', claims: { sub: SUB, repository: REPO } } })).status).toBe(201);
      const jwt = await new SignJWT({ aud: AUDIENCE, sub: SUB, repository: REPO }).setProtectedHeader({ alg: key.alg, kid: key.kid }).setIssuer(url).setIssuedAt().setExpirationTime('5m').sign(key.privateKey);
      const res = await exchange(jwt, 'endless');
      expect(res.status, JSON.stringify(res.body)).toBe(503);
      expect(res.body.error.message).toMatch(/larger than 524288 bytes/);
      // It stopped reading: far less than the 64 MB on offer went out.
      expect(sent).toBeLessThan(16 * 1024 * 1024);
    } finally {
      await runed.request('DELETE', '/v1/trusts/endless', { token: root });
      endless.closeAllConnections();
      await new Promise((r) => endless.close(r));
    }
  });

  it('creating a trust is an admin action behind the escalation guard, with strict fields', async () => {
    await runed.request('POST', '/v1/policies', { token: root, body: { name: 'sa-admin', rules: [{ resource: 'serviceaccounts', verbs: ['get', 'list', 'update'] }, { resource: 'tokens', verbs: ['create'] }] } });
    const admin = await runed.userWithToken(root, 'sa-admin-user', ['sa-admin']);
    const guarded = await createTrust({ name: 'sneaky', serviceAccount: 'deployer', claims: { sub: SUB } }, admin);
    expect(guarded.status).toBe(403);
    expect(guarded.body.error.message).toMatch(/may not create trust sneaky for service account deployer: it grants rules the caller does not hold/);

    const typo = await createTrust({ name: 'typo', serviceAccount: 'deployer', claim: { sub: SUB } });
    expect(typo.status).toBe(400);
    expect(typo.body.error.message).toBe('unknown field "claim" (did you mean "claims"?)');
    const insecure = await createTrust({ name: 'plain', serviceAccount: 'deployer', claims: { sub: SUB }, issuer: 'http://issuer.example' });
    expect(insecure.body.error).toMatchObject({ details: { field: 'issuer' } });
    expect(insecure.body.error.message).toMatch(/must be an https:\/\/ URL/);
    const reserved = await createTrust({ name: 'aud-claim', serviceAccount: 'deployer', claims: { aud: 'x' } });
    expect(reserved.body.error).toMatchObject({ details: { field: 'claims.aud' } });
    const long = await createTrust({ name: 'long', serviceAccount: 'deployer', claims: { sub: SUB }, ttl: '2h' });
    expect(long.body.error.message).toBe('ttl 2h is longer than the maximum of 1h (auth.oidcMaxTtl)');
  });

  it('deleting the trust stops new exchanges and revokes nothing else', async () => {
    const before = await exchange(await jobToken());
    expect(before.status).toBe(201);
    expect((await runed.request('DELETE', '/v1/trusts/gh-branches', { token: root })).status).toBe(200);
    expect((await exchange(await jobToken(), 'gh-branches')).body.error.details.reason).toBe('trust');
    expect((await runed.request('GET', '/v1/whoami', { token: before.body.secret })).status).toBe(200);
    expect((await exchange(await jobToken())).status).toBe(201); // other trusts of the account still work
  });

  it('deleting the service account stops new exchanges and revokes nothing else', async () => {
    expect((await runed.request('POST', '/v1/serviceaccounts', { token: root, body: { name: 'other', permissions: ['read'] } })).status).toBe(201);
    expect((await createTrust({ name: 'other-trust', serviceAccount: 'other', claims: { sub: SUB } })).status).toBe(201);
    const other = await exchange(await jobToken(), 'other-trust');
    expect(other.status).toBe(201);

    const deleted = await runed.request('DELETE', '/v1/serviceaccounts/deployer', { token: root });
    expect(deleted.status).toBe(200);
    expect(deleted.body.removedTrusts).toEqual(['gh-stg']);
    expect((await runed.request('GET', '/v1/trusts/gh-stg', { token: root })).status).toBe(404);
    expect((await exchange(await jobToken())).body.error.details.reason).toBe('trust');
    expect((await runed.request('GET', '/v1/whoami', { token: other.body.secret })).status).toBe(200);
    expect((await runed.request('GET', '/v1/trusts', { token: root })).body.items.map((t: { name: string }) => t.name)).toEqual(['other-trust']);
  });

  it('the audit records each exchange: the trust, the claims that matched and the token minted', async () => {
    const events = (await runed.request('GET', '/v1/audit?action=exchange&limit=1000', { token: root })).body.items as { outcome: string; ref: string; message: string }[];
    const minted = events.filter((e) => e.outcome === 'success');
    expect(minted.length).toBeGreaterThanOrEqual(8);
    expect(minted.find((e) => e.ref === 'gh-stg')!.message).toMatch(
      new RegExp(`^token tok_\\w+ \\(10m\\) for serviceaccount deployer; matched issuer ${issuer.url}, audience ${AUDIENCE}, repository="${REPO}", sub="${SUB}"$`),
    );
    const denied = events.filter((e) => e.outcome === 'denied').map((e) => e.message);
    for (const check of ['issuer', 'audience', 'claim', 'expired', 'not_yet_valid', 'algorithm', 'signature', 'replay', 'trust']) {
      expect(denied.some((m) => m.startsWith(`${check}: `))).toBe(true);
    }
    // The first refusal of each kind from a network in a window is recorded in full (the rest are summarised).
    expect(denied).toContain('claim: claim "sub" of the token does not match the trust (sub "repo:acme/api:ref:refs/heads/feature")');
    expect(JSON.stringify(events)).not.toMatch(/eyJ[\w-]+\.eyJ/);
  });
});

describe('OIDC exchange and the failure limiter', () => {
  it('failed exchanges count with failed authentications: past the limit the answer is 429', async () => {
    const runed = await Runed.start([], { env: { RUNE_AUTH_FAILED_AUTH_LIMIT: '3' } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await runed.request('POST', '/v1/auth/oidc/exchange', { body: { trust: 'nope', jwt: 'a.b.c' } })).status);
      expect(statuses).toEqual([401, 401, 401, 429]);
      expect((await runed.request('GET', '/v1/whoami', { token: 'rune_tok_bad' })).status).toBe(429);
    } finally {
      await runed.cleanup();
    }
  });
});
