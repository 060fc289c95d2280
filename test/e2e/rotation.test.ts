import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cli } from '../helpers/rune.js';
import { eventually, Runed } from '../helpers/runed.js';
import { withTestDb } from '../helpers/storeDb.js';

/** Issue 16, items 4 and 5: rotating a token with a grace period, and warnings before a token expires. */

const GENERIC = { error: { code: 'unauthenticated', message: 'invalid or expired token' } };
const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;

interface Minted {
  token: { id: string; name: string; expiresAt?: string; policies: string[] };
  secret: string;
}
interface Rotated extends Minted {
  graceUntil?: string;
}
interface AuditItem {
  action: string;
  ref?: string;
  outcome: string;
  message: string;
  actor?: { name: string; tokenId?: string };
}

describe('token rotation and expiry warnings against one daemon', () => {
  let runed: Runed;
  let root: string;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    runed = await Runed.start(['--set', 'auth.failedAuthLimit=1000']);
    root = await runed.bootstrap();
    alice = await runed.userWithToken(root, 'alice', ['readwrite']);
    bob = await runed.userWithToken(root, 'bob', ['readwrite']);
  });
  afterAll(async () => runed.cleanup());

  const create = async (token: string, body: Record<string, unknown>): Promise<Minted> => {
    const res = await runed.request('POST', '/v1/tokens', { token, body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as Minted;
  };
  const rotate = (token: string, id: string, body: Record<string, unknown> = {}) => runed.request<Rotated>('POST', `/v1/tokens/${id}/rotate`, { token, body });
  const whoami = (token: string) => runed.request('GET', '/v1/whoami', { token });
  const auditOf = async (query: string): Promise<AuditItem[]> => {
    const res = await runed.request('GET', `/v1/audit?limit=1000&${query}`, { token: root });
    expect(res.status).toBe(200);
    return res.body.items as AuditItem[];
  };

  describe('rotate', () => {
    it('keeps id, policies and expiry; the new secret works and the old one keeps working inside the grace period', async () => {
      const t = await create(alice, { name: 'rot-basic', ttl: '30d', policies: ['readwrite'] });
      const res = await rotate(alice, t.token.id, { grace: '1h' });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.token).toMatchObject({ id: t.token.id, name: 'rot-basic', policies: ['readwrite'], expiresAt: t.token.expiresAt, status: 'active' });
      expect(res.body.secret).not.toBe(t.secret);
      expect(res.body.secret).toContain(t.token.id);
      expect(Date.parse(res.body.graceUntil!) - Date.now()).toBeGreaterThan(50 * 60_000);
      expect((await whoami(res.body.secret)).status).toBe(200);
      const old = await whoami(t.secret);
      expect(old.status).toBe(200);
      expect(old.headers.get('rune-token-rotated')).toBe(res.body.graceUntil);
      expect((await whoami(res.body.secret)).headers.get('rune-token-rotated')).toBeNull();
    });

    it('without a body it rotates with the default grace of 1h', async () => {
      const t = await create(alice, { name: 'rot-no-body' });
      const res = await runed.request<Rotated>('POST', `/v1/tokens/${t.token.id}/rotate`, { token: alice });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(Date.parse(res.body.graceUntil!) - Date.now()).toBeGreaterThan(50 * 60_000);
      expect((await whoami(t.secret)).status).toBe(200);
    });

    it('the old secret is refused (401, reason "rotated" in the audit trail) once the grace period ends, though it was cached', async () => {
      const t = await create(alice, { name: 'rot-short' });
      const res = await rotate(alice, t.token.id, { grace: '1s' });
      expect(res.status).toBe(200);
      await eventually('the old secret to be refused', async () => (await whoami(t.secret)).status === 401);
      expect((await whoami(t.secret)).body).toEqual(GENERIC);
      expect((await whoami(res.body.secret)).status).toBe(200);
      const refusals = await auditOf(`action=authenticate&outcome=denied`);
      expect(refusals.some((e) => e.ref === t.token.id && e.message === 'rotated')).toBe(true);
    });

    it('--grace 0 cuts over at once', async () => {
      const t = await create(alice, { name: 'rot-zero' });
      expect((await whoami(t.secret)).status).toBe(200);
      const res = await rotate(alice, t.token.id, { grace: '0' });
      expect(res.status).toBe(200);
      expect(res.body.graceUntil).toBeUndefined();
      expect([(await whoami(t.secret)).status, (await whoami(res.body.secret)).status]).toEqual([401, 200]);
    });

    it('a second rotation inside the grace period replaces the first: only one old secret lives', async () => {
      const first = await create(alice, { name: 'rot-twice' });
      const second = (await rotate(alice, first.token.id, { grace: '1h' })).body;
      const third = (await rotate(second.secret, first.token.id, { grace: '1h' })).body;
      expect([(await whoami(first.secret)).status, (await whoami(second.secret)).status, (await whoami(third.secret)).status]).toEqual([401, 200, 200]);
    });

    it('each use of the old secret is audited (at most one event per token and second, with the count of the rest)', async () => {
      const t = await create(alice, { name: 'rot-audited' });
      const res = await rotate(alice, t.token.id, { grace: '1h' });
      const uses = 5;
      for (let i = 0; i < uses; i++) expect((await whoami(t.secret)).status).toBe(200);
      expect((await whoami(res.body.secret)).status).toBe(200); // the new secret is no "old-secret" use
      const counted = async () => {
        const events = (await auditOf('action=old-secret')).filter((e) => e.ref === t.token.id);
        return events.reduce((n, e) => n + (/^(\d+) more use/.exec(e.message) ? Number(/^(\d+)/.exec(e.message)![1]) : 1), 0);
      };
      await eventually(async () => `${uses} uses counted, have ${await counted()}`, async () => (await counted()) === uses);
      const first = (await auditOf('action=old-secret')).find((e) => e.ref === t.token.id && e.message.startsWith('used the'));
      expect(first).toMatchObject({ outcome: 'success', actor: { name: 'alice', tokenId: t.token.id } });
      expect(first!.message).toContain(res.body.graceUntil!);
    });

    it('a request made with the old secret may not rotate again (else a leaked secret could win the token back)', async () => {
      const t = await create(alice, { name: 'rot-takeover' });
      const res = await rotate(alice, t.token.id, { grace: '1h' });
      const again = await rotate(t.secret, t.token.id, { grace: '1h' });
      expect(again.status).toBe(403);
      expect(again.body.error.message).toMatch(/replaced/);
      expect((await whoami(res.body.secret)).status).toBe(200);
    });

    it('hostile callers: another user\'s token sees 404 and changes nothing', async () => {
      const t = await create(alice, { name: 'rot-victim' });
      const res = await rotate(bob, t.token.id, { grace: '0' });
      expect(res.status).toBe(404);
      expect(JSON.stringify(res.body)).not.toContain('rune_');
      expect((await whoami(t.secret)).status).toBe(200);
    });

    it('hostile callers: a narrowed token rotates itself, never its siblings', async () => {
      const sibling = await create(alice, { name: 'rot-sibling' });
      const narrowed = await create(alice, { name: 'rot-narrowed', policies: ['readwrite'] });
      const res = await rotate(narrowed.secret, sibling.token.id, { grace: '0' });
      expect(res.status).toBe(404);
      expect((await whoami(sibling.secret)).status).toBe(200);
      const self = await rotate(narrowed.secret, narrowed.token.id, { grace: '0' });
      expect(self.status).toBe(200);
      expect(self.body.token.policies).toEqual(['readwrite']);
    });

    it('hostile callers: a service account\'s token cannot rotate a user\'s', async () => {
      const sa = await runed.request('POST', '/v1/serviceaccounts', { token: root, body: { name: 'rot-ci', permissions: ['cast'] } });
      expect(sa.status).toBe(201);
      const t = await create(alice, { name: 'rot-from-ci' });
      expect((await rotate(sa.body.secret, t.token.id, { grace: '0' })).status).toBe(404);
      expect((await whoami(t.secret)).status).toBe(200);
    });

    it('an administrator rotates another subject\'s token', async () => {
      const t = await create(alice, { name: 'rot-by-admin' });
      const res = await rotate(root, t.token.id, { grace: '0' });
      expect(res.status).toBe(200);
      expect((await whoami(t.secret)).status).toBe(401);
    });

    it('bad input: a 400 naming the field; a revoked token: 409', async () => {
      const t = await create(alice, { name: 'rot-bad' });
      for (const grace of ['soon', '-1h', '31d']) {
        const res = await rotate(alice, t.token.id, { grace });
        expect(res.status, grace).toBe(400);
        expect(res.body.error.details.field).toBe('grace');
      }
      expect((await rotate(alice, t.token.id, { grace: '1h', ttl: '1d' })).status).toBe(400);
      expect((await whoami(t.secret)).status).toBe(200);
      await runed.request('DELETE', `/v1/tokens/${t.token.id}`, { token: alice });
      expect((await rotate(alice, t.token.id)).status).toBe(409);
    });

    it('the new secret is in no list, audit event or log line', async () => {
      const t = await create(alice, { name: 'rot-secret' });
      const res = await rotate(alice, t.token.id);
      await whoami(t.secret);
      const secretPart = (bearer: string) => bearer.slice(bearer.lastIndexOf('_') + 1);
      const lists = JSON.stringify([(await runed.request('GET', '/v1/tokens', { token: root })).body, (await runed.request('GET', `/v1/tokens/${t.token.id}`, { token: alice })).body]);
      const audit = JSON.stringify(await auditOf(''));
      expect(audit).toContain('grace 1h');
      const stored = await withTestDb(runed, (db) => db.contents());
      for (const text of [lists, audit, runed.logs, stored]) {
        expect(text).not.toContain(secretPart(res.body.secret));
        expect(text).not.toContain(secretPart(t.secret));
      }
    });
  });

  describe('expiry warnings', () => {
    it('Rune-Token-Expires is on every answer to a token expiring within 7 days, errors included, and on no other', async () => {
      const soon = await create(alice, { name: 'exp-7d', ttl: '7d' });
      const later = await create(alice, { name: 'exp-7d1m', ttl: '7d1m' });
      const ok = await whoami(soon.secret);
      expect(ok.headers.get('rune-token-expires')).toBe(soon.token.expiresAt);
      const notFound = await runed.request('GET', '/v1/tokens/tok_00000000000000000000', { token: soon.secret });
      expect(notFound.status).toBe(404);
      expect(notFound.headers.get('rune-token-expires')).toBe(soon.token.expiresAt);
      expect((await whoami(later.secret)).headers.get('rune-token-expires')).toBeNull();
      expect((await whoami(alice)).headers.get('rune-token-expires')).toBeNull();
      expect((await runed.request('GET', '/healthz')).headers.get('rune-token-expires')).toBeNull();
    });

    it('the token list filters by ?expiresWithin=', async () => {
      const soon = await create(bob, { name: 'exp-list-soon', ttl: '2d' });
      await create(bob, { name: 'exp-list-later', ttl: '20d' });
      const res = await runed.request('GET', '/v1/tokens?expiresWithin=3d&status=active', { token: bob });
      expect((res.body.items as { id: string }[]).map((t) => t.id)).toEqual([soon.token.id]);
      expect((await runed.request('GET', '/v1/tokens?expiresWithin=soon', { token: bob })).body.error.details.field).toBe('expiresWithin');
    });
  });

  describe('the CLI', () => {
    const cliAs = (token: string) => new Cli({ RUNE_SERVER: runed.url, RUNE_TOKEN: token });

    it('token rotate --out-file writes the new secret 0600 and never to stdout; --grace 0 cuts over', async () => {
      const t = await create(alice, { name: 'cli-rot' });
      const cli = cliAs(alice);
      const r = cli.run(['admin', 'token', 'rotate', t.token.id, '--grace', '0', '--out-file', 'new.token']);
      expect(r.status, r.stderr).toBe(0);
      const file = join(cli.home, 'new.token');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const secret = readFileSync(file, 'utf8').trim();
      expect(r.stdout).toContain('the old secret no longer works');
      expect(r.stdout + r.stderr).not.toContain(secret);
      expect([(await whoami(t.secret)).status, (await whoami(secret)).status]).toEqual([401, 200]);
    });

    it('token rotate keeps the old secret for --grace and tells how to see who still uses it', async () => {
      const t = await create(alice, { name: 'cli-rot-grace' });
      const r = cliAs(alice).run(['admin', 'token', 'rotate', t.token.id, '--grace', '2h']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.trim()).toMatch(new RegExp(`^rune_${t.token.id}_\\w+$`));
      expect(r.stderr).toMatch(/old secret works until .*rune admin audit --action old-secret/);
      expect((await whoami(t.secret)).status).toBe(200);
      const bad = cliAs(alice).run(['admin', 'token', 'rotate', t.token.id, '--grace', 'soon']);
      expect(bad.status).not.toBe(0);
      expect(bad.stderr).toContain('--grace "soon" is not a duration');
    });

    it('rotating the token the command runs with says how to switch to the new secret', async () => {
      const t = await create(alice, { name: 'cli-rot-self' });
      const r = cliAs(t.secret).run(['admin', 'token', 'rotate', t.token.id, '--grace', '1h', '--out-file', 'self.token']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/note: RUNE_TOKEN holds this token: set RUNE_TOKEN to the new secret before \d{4}-/);
      // Through a context: the note names the login that switches it.
      const ctxToken = await create(alice, { name: 'cli-rot-ctx' });
      const home = new Cli({});
      writeFileSync(join(home.home, 'ctx.token'), ctxToken.secret, { mode: 0o600 });
      home.ok(['login', 'work', '--server', runed.url, '--token-file', join(home.home, 'ctx.token')]);
      const viaContext = home.run(['admin', 'token', 'rotate', ctxToken.token.id, '--grace', '0', '--out-file', 'next.token']);
      expect(viaContext.status, viaContext.stderr).toBe(0);
      expect(viaContext.stderr).toContain(`note: context "work" uses this token: rune login work --server ${runed.url} --token-file next.token now: the old secret no longer works`);
      const other = await create(alice, { name: 'cli-rot-other' });
      const quiet = cliAs(alice).run(['admin', 'token', 'rotate', other.token.id, '--out-file', 'other.token']);
      expect(quiet.status, quiet.stderr).toBe(0);
      expect(quiet.stderr).not.toContain('note:');
    });

    it('a token expiring within 7 days: one warning line on stderr, stdout untouched', async () => {
      const t = await create(alice, { name: 'cli-expiring', ttl: '3d' });
      const r = cliAs(t.secret).run(['whoami', '-o', 'json']);
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).token.id).toBe(t.token.id);
      const warnings = r.stderr.split('\n').filter((l) => l.startsWith('warning:'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(`${t.token.id} expires at ${t.token.expiresAt}`);
      const calm = cliAs(alice).run(['whoami', '-o', 'json']);
      expect(calm.stderr).not.toContain('warning');
    });

    it('a command run with a replaced secret warns on stderr that it stops working soon', async () => {
      const t = await create(alice, { name: 'cli-old-secret' });
      const rotated = await rotate(alice, t.token.id, { grace: '1h' });
      const r = cliAs(t.secret).run(['whoami', '-o', 'json']);
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).token.id).toBe(t.token.id);
      const warnings = r.stderr.split('\n').filter((l) => l.startsWith('warning:'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(`warning: the token ${t.token.id} is a secret that a rotation replaced; it stops working at ${rotated.body.graceUntil} (in `);
      expect(warnings[0]).toMatch(/\(in \d+m\): switch to the new secret$/);
      expect(cliAs(rotated.body.secret).run(['whoami']).stderr).not.toContain('warning');
    });

    it('token expiring exits 0 when none expire within the window and 3 when some do; -o json too', async () => {
      const carol = await runed.userWithToken(root, 'carol', ['readonly']);
      const none = cliAs(carol).run(['admin', 'token', 'expiring', '--within', '7d']);
      expect([none.status, none.stdout]).toEqual([0, '']);
      expect(none.stderr).toContain('no active token expires within 7d');
      const soon = await create(carol, { name: 'carol-soon', ttl: '5d' });
      await create(carol, { name: 'carol-later', ttl: '30d' });
      const some = cliAs(carol).run(['admin', 'token', 'expiring', '--within', '7d']);
      expect(some.status).toBe(3);
      expect(some.stdout).toContain('carol-soon');
      expect(some.stdout).not.toContain('carol-later');
      const json = cliAs(carol).run(['admin', 'token', 'expiring', '--within', '7d', '-o', 'json']);
      expect(json.status).toBe(3);
      expect((JSON.parse(json.stdout) as { id: string }[]).map((t) => t.id)).toEqual([soon.token.id]);
      expect(cliAs(carol).run(['admin', 'token', 'expiring', '--within', '1d']).status).toBe(0);
    });
  });
});

describe('/metrics: tokens expiring within 1 and 7 days; the headers across origins', () => {
  let runed: Runed;
  let text: string;
  const secrets: string[] = [];
  beforeAll(async () => {
    runed = await Runed.start(['--set', 'cors.allowedOrigins=https://app.example']);
    const root = await runed.bootstrap();
    for (const ttl of ['12h', '3d', '6d', '30d']) {
      const res = await runed.request('POST', '/v1/tokens', { token: root, body: { ttl } });
      expect(res.status).toBe(201);
      secrets.push(res.body.secret);
    }
    const revoked = await runed.request('POST', '/v1/tokens', { token: root, body: { ttl: '2h' } });
    await runed.request('DELETE', `/v1/tokens/${revoked.body.token.id}`, { token: root });
    text = await (await fetch(`${runed.url}/metrics`)).text();
  });
  afterAll(() => runed.cleanup());

  it('counts active tokens only, with no per-token label', () => {
    expect(text).toContain('# TYPE rune_tokens_expiring gauge');
    expect(text).toContain('rune_tokens_expiring{within="1d"} 1');
    expect(text).toContain('rune_tokens_expiring{within="7d"} 3');
    expect(text).not.toMatch(/tok_/);
  });

  it.skipIf(!promtool)('passes promtool check metrics', () => {
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.stdout + check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  it('a listed origin may read Rune-Token-Expires (Access-Control-Expose-Headers)', async () => {
    const res = await fetch(`${runed.url}/v1/whoami`, { headers: { origin: 'https://app.example', authorization: `Bearer ${secrets[0]}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('rune-token-expires')).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(res.headers.get('access-control-expose-headers')).toContain('Rune-Token-Expires');
  });
});
