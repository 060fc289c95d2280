import { afterEach, describe, expect, it } from 'vitest';
import { inProcessDaemon } from '../helpers/inProcess.js';
import { Runed } from '../helpers/runed.js';
import { isLoopback } from '../../src/daemon/net.js';

let runed: Runed | undefined;
afterEach(async () => {
  await runed?.cleanup();
  runed = undefined;
});

describe('bootstrap over a real socket', () => {
  it('once: 201 with a root token that works', async () => {
    runed = await Runed.start();
    const res = await runed.request('POST', '/v1/bootstrap');
    expect(res.status).toBe(201);
    expect(res.body.token).toMatchObject({ name: 'root', subjectName: 'root', subjectType: 'user', status: 'active' });
    expect(res.body.token.expiresAt).toBeUndefined();
    const me = await runed.request('GET', '/v1/whoami', { token: res.body.secret });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ subject: { name: 'root', type: 'user' }, policies: ['root'], rules: [{ resource: '*', verbs: ['*'], namespace: '*' }] });
  });

  it('twice: the second answers 409 already bootstrapped', async () => {
    runed = await Runed.start();
    await runed.bootstrap();
    const again = await runed.request('POST', '/v1/bootstrap');
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(/^already bootstrapped/);
    expect(again.body.secret).toBeUndefined();
  });

  it('100 at once: exactly one succeeds', async () => {
    runed = await Runed.start();
    const results = await Promise.all(Array.from({ length: 100 }, () => runed!.request('POST', '/v1/bootstrap')));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(99);
  });

  it('after a restart it is still bootstrapped', async () => {
    runed = await Runed.start();
    const root = await runed.bootstrap();
    await runed.stop();
    runed = await Runed.start([], { dataDir: runed.dataDir });
    expect((await runed.request('POST', '/v1/bootstrap')).status).toBe(409);
    expect((await runed.request('GET', '/v1/whoami', { token: root })).status).toBe(200);
  });

  it('runed reset-bootstrap allows exactly one more, while runed runs, and old tokens stay valid', async () => {
    runed = await Runed.start();
    const first = await runed.bootstrap();
    const reset = runed.host(['reset-bootstrap']);
    expect(reset.status).toBe(0);
    expect(reset.stdout).toMatch(/bootstrap re-enabled/);
    const second = await runed.request('POST', '/v1/bootstrap');
    expect(second.status).toBe(201);
    expect(second.body.secret).not.toBe(first);
    expect((await runed.request('POST', '/v1/bootstrap')).status).toBe(409);
    expect((await runed.request('GET', '/v1/whoami', { token: first })).status).toBe(200);
    expect((await runed.request('GET', '/v1/whoami', { token: second.body.secret })).status).toBe(200);
    const trail = await runed.request('GET', '/v1/audit?action=reset-bootstrap', { token: first });
    expect(trail.body.items).toEqual([expect.objectContaining({ actor: { name: 'host', type: 'local' }, action: 'reset-bootstrap', outcome: 'success' })]);
  });
});

describe('isLoopback fails closed', () => {
  it.each([undefined, '', 'localhost', '127.0.0.1.evil', '::2', '0.0.0.0'])('%j is not loopback', (addr) => expect(isLoopback(addr)).toBe(false));
  it.each(['127.0.0.1', '127.255.0.1', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.2'])('%j is loopback', (addr) => expect(isLoopback(addr)).toBe(true));
});

describe('bootstrap peer decision table (inject sets the peer address)', () => {
  it.each([
    ['127.0.0.1', 201],
    ['127.8.9.10', 201],
    ['::1', 201],
    ['::ffff:127.0.0.1', 201],
    ['10.0.0.5', 403],
    ['192.168.1.20', 403],
    ['::ffff:10.0.0.5', 403],
    ['2001:db8::1', 403],
    ['not-an-address', 403],
  ])('peer %j → %i, even with allowRemoteAdmin', async (peer, status) => {
    const d = await inProcessDaemon((c) => (c.auth.allowRemoteAdmin = true));
    try {
      const res = await d.inject('POST', '/v1/bootstrap', { remoteAddress: peer });
      expect(res.status).toBe(status);
      if (status === 403) {
        expect(res.body.error).toMatchObject({ code: 'permission_denied', message: expect.stringMatching(/loopback/) });
        // Refused bootstrap changes nothing: a loopback call still succeeds afterwards.
        expect((await d.inject('POST', '/v1/bootstrap')).status).toBe(201);
      }
    } finally {
      await d.close();
    }
  });

  it('a spoofed X-Forwarded-For: 127.0.0.1 from a remote peer is refused', async () => {
    const d = await inProcessDaemon();
    try {
      const res = await d.inject('POST', '/v1/bootstrap', { remoteAddress: '203.0.113.9', headers: { 'x-forwarded-for': '127.0.0.1' } });
      expect(res.status).toBe(403);
    } finally {
      await d.close();
    }
  });
});
