import { afterEach, describe, expect, it } from 'vitest';
import { Runed } from '../helpers/runed.js';
import { withTestDb } from '../helpers/storeDb.js';

let runed: Runed | undefined;
afterEach(async () => {
  await runed?.cleanup();
  runed = undefined;
});

async function busyDaemon() {
  runed = await Runed.start();
  const root = await runed.bootstrap();
  const alice = await runed.userWithToken(root, 'alice', ['readwrite']);
  await runed.request('GET', '/v1/users', { token: alice }); // denied
  await runed.request('GET', '/v1/whoami', { token: alice.slice(0, -3) + 'abc' }); // bad checksum
  const t = await runed.request('POST', '/v1/tokens', { token: alice, body: { name: 'short' } });
  await runed.request('DELETE', `/v1/tokens/${t.body.token.id}`, { token: alice });
  await runed.request('GET', '/v1/whoami', { token: t.body.secret }); // revoked
  await runed.request('DELETE', '/v1/policies/root', { token: root }); // error: built in
  return { runed, root, alice, revokedId: t.body.token.id as string, secrets: [root, alice, t.body.secret as string] };
}

describe('audit trail', () => {
  it('records admin actions, denials and failed authentications with their real reason', async () => {
    const { runed, root, revokedId } = await busyDaemon();
    const res = await runed.request('GET', '/v1/audit?limit=1000', { token: root });
    const events = res.body.items as Array<Record<string, any>>;
    const summary = events.map((e) => `${e.action} ${e.resource} ${e.outcome} ${e.message}`);
    expect(summary).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^bootstrap tokens success/),
        'create users success ',
        expect.stringMatching(/^list users denied user alice may not list users/),
        'authenticate tokens denied bad_checksum',
        'authenticate tokens denied revoked',
        'revoke tokens success ',
        expect.stringMatching(/^delete policies error failed_precondition: policy "root" is built in/),
      ]),
    );
    const revokedAuth = events.find((e) => e.message === 'revoked')!;
    expect(revokedAuth).toMatchObject({ ref: revokedId, remoteAddr: '127.0.0.1' });
    expect(revokedAuth.actor).toBeUndefined();
    const create = events.find((e) => e.action === 'create' && e.resource === 'users')!;
    expect(create).toMatchObject({ actor: { name: 'root', type: 'user', tokenId: expect.stringMatching(/^tok_/) }, ref: 'alice' });
    // Newest first.
    expect(events.map((e) => e.id)).toEqual([...events.map((e) => e.id)].sort((a, b) => b - a));
  });

  it('no secret ever appears in the trail', async () => {
    const { runed, root, secrets } = await busyDaemon();
    const text = JSON.stringify((await runed.request('GET', '/v1/audit?limit=1000', { token: root })).body);
    for (const s of secrets) expect(text).not.toContain(s.split('_')[3]!.slice(0, 20));
  });

  it('filters by actor, action and outcome, pages, and is admin-only', async () => {
    const { runed, root, alice } = await busyDaemon();
    const denied = await runed.request('GET', '/v1/audit?outcome=denied', { token: root });
    expect(denied.body.items.length).toBeGreaterThanOrEqual(3);
    expect(denied.body.items.every((e: { outcome: string }) => e.outcome === 'denied')).toBe(true);
    const byAlice = await runed.request('GET', '/v1/audit?actor=alice', { token: root });
    expect(byAlice.body.items.every((e: { actor: { name: string } }) => e.actor.name === 'alice')).toBe(true);
    const page1 = await runed.request('GET', '/v1/audit?limit=2', { token: root });
    const page2 = await runed.request('GET', `/v1/audit?limit=2&cursor=${page1.body.nextCursor}`, { token: root });
    expect(page2.body.items[0].id).toBe(page1.body.items[1].id - 1);
    expect((await runed.request('GET', '/v1/audit?since=1h', { token: root })).body.items.length).toBeGreaterThan(0);
    expect((await runed.request('GET', '/v1/audit?since=2999-01-01T00:00:00Z', { token: root })).body.items).toEqual([]);
    expect((await runed.request('GET', '/v1/audit?outcome=maybe', { token: root })).status).toBe(400);
    expect((await runed.request('GET', '/v1/audit?since=yesterday', { token: root })).status).toBe(400);
    expect((await runed.request('GET', '/v1/audit', { token: alice })).status).toBe(403);
  });

  it('each event carries the previous hash; runed audit verify passes, then names the tampered event', async () => {
    const { runed, root } = await busyDaemon();
    const events = (await runed.request('GET', '/v1/audit?limit=1000', { token: root })).body.items.reverse();
    for (let i = 1; i < events.length; i++) expect(events[i].prevHash).toBe(events[i - 1].hash);
    const ok = runed.host(['audit', 'verify']);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^audit trail intact: \d+ event\(s\) verified\n$/);

    const victim = events[3].id as number;
    await withTestDb(runed, (db) => db.run("UPDATE audit_events SET outcome = 'success', message = '' WHERE id = ?", [victim]));
    const broken = runed.host(['audit', 'verify']);
    expect(broken.status).toBe(1);
    expect(broken.stdout).toBe(
      `audit trail BROKEN: 1 problem(s) in ${events.length} event(s)\n  event ${victim}: it was altered after it was written: its HMAC does not verify under the audit key\n`,
    );
  });

  it('deleting an event, or the newest ones, is detected too', async () => {
    const { runed, root } = await busyDaemon();
    const events = (await runed.request('GET', '/v1/audit?limit=1000', { token: root })).body.items.reverse();
    await runed.stop();
    await withTestDb(runed, (db) => db.run('DELETE FROM audit_events WHERE id = ?', [events[2].id]));
    const middle = runed.host(['audit', 'verify']);
    expect(middle.status).toBe(1);
    expect(middle.stdout).toContain(`\n  event ${events[2].id}: the head checkpoint file records it (line `);
    expect(middle.stdout).toContain(`\n  event ${events[3].id}: it does not link to the event before it (event ${events[1].id}): an event was removed or altered\n`);
    await withTestDb(runed, (db) => db.run('DELETE FROM audit_events WHERE id >= ?', [events[2].id]));
    const tail = runed.host(['audit', 'verify']);
    expect(tail.status).toBe(1);
    expect(tail.stdout).toMatch(/the newest events were removed/);
    expect(tail.stdout).toContain(`records event ${events.at(-1).id} with hash ${events.at(-1).hash}, but the database ends at event ${events[1].id}`);
  });
});
