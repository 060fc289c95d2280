import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, Runed } from '../helpers/runed.js';
import { withTestDb } from '../helpers/storeDb.js';

let runed: Runed | undefined;
afterEach(async () => {
  await runed?.cleanup();
  runed = undefined;
});

describe('durability', () => {
  it('kill -9 during a burst of writes loses no acknowledged write', async () => {
    runed = await Runed.start();
    const root = await runed.bootstrap();
    const ackedUsers: string[] = [];
    const ackedTokens: string[] = [];
    let stop = false;
    const worker = async (w: number) => {
      for (let i = 0; !stop; i++) {
        try {
          const name = `w${w}-u${i}`;
          const res = await runed!.request('POST', '/v1/users', { token: root, body: { name } });
          if (res.status === 201) ackedUsers.push(name);
          const tok = await runed!.request('POST', '/v1/tokens', { token: root, body: { name: `t-${name}`, subjectName: name } });
          if (tok.status === 201) ackedTokens.push(tok.body.secret);
        } catch {
          return; // the daemon is gone: what was acknowledged so far is what counts
        }
      }
    };
    const workers = Array.from({ length: 4 }, (_, w) => worker(w));
    await eventually('40 acknowledged users', () => ackedUsers.length >= 40, 20_000, 5);
    await runed.stop('SIGKILL');
    stop = true;
    await Promise.all(workers);

    runed = await Runed.start([], { dataDir: runed.dataDir });
    const names = new Set<string>();
    let cursor = '';
    do {
      const page = await runed.request('GET', `/v1/users?limit=1000${cursor ? `&cursor=${cursor}` : ''}`, { token: root });
      for (const u of page.body.items) names.add(u.name);
      cursor = page.body.nextCursor ?? '';
    } while (cursor);
    expect(ackedUsers.length).toBeGreaterThanOrEqual(40);
    expect(ackedUsers.filter((n) => !names.has(n))).toEqual([]);
    for (const secret of ackedTokens) expect((await runed.request('GET', '/v1/whoami', { token: secret })).status).toBe(200);
  });

  it('SIGTERM shuts down gracefully: exit 0, the store closed, data kept', async () => {
    runed = await Runed.start();
    const root = await runed.bootstrap();
    await runed.request('POST', '/v1/users', { token: root, body: { name: 'kept' } });
    const inFlight = Promise.all(Array.from({ length: 20 }, () => runed!.request('GET', '/v1/whoami', { token: root }).then((r) => r.status, () => 'refused')));
    const code = await runed.stop('SIGTERM');
    expect(code).toBe(0);
    expect(runed.logs).toContain('shutting down');
    expect(runed.logs).toContain('"msg":"stopped"');
    // Requests already accepted finish normally; ones that arrive while closing get 503 or a refused connection.
    const statuses = await inFlight;
    expect(statuses.filter((s) => s !== 200 && s !== 503 && s !== 'refused')).toEqual([]);
    runed = await Runed.start([], { dataDir: runed.dataDir });
    expect((await runed.request('GET', '/v1/users/kept', { token: root })).status).toBe(200);
  });

  it('a second runed on the same data dir refuses to start, naming the first', async () => {
    runed = await Runed.start();
    const second = runed.host(['--listen', '127.0.0.1:0']);
    expect(second.status).toBe(1);
    expect(second.stderr).toBe(`runed: another runed (pid ${runed.proc.pid}) is already using ${runed.dataDir}\n`);
    // After kill -9 the stale lock does not stop the next start.
    await runed.stop('SIGKILL');
    runed = await Runed.start([], { dataDir: runed.dataDir });
  });

  it('the data dir is 0700 and every file in it 0600', async () => {
    runed = await Runed.start();
    const root = await runed.bootstrap();
    await runed.request('POST', '/v1/users', { token: root, body: { name: 'x' } });
    expect(statSync(runed.dataDir).mode & 0o777).toBe(0o700);
    for (const file of readdirSync(runed.dataDir)) {
      expect([file, statSync(join(runed.dataDir, file)).mode & 0o777]).toEqual([file, 0o600]);
    }
  });
});

describe('secrets never reach the disk or the logs', () => {
  it('no token secret appears in the data dir or the database, and the Authorization header is redacted', async () => {
    runed = await Runed.start(['--log-level', 'trace']);
    const root = await runed.bootstrap();
    const alice = await runed.userWithToken(root, 'alice', ['readonly']);
    const more = await runed.request('POST', '/v1/tokens', { token: root, body: { name: 'another', description: 'x' } });
    const secrets = [root, alice, more.body.secret as string];
    for (const s of secrets) {
      await runed.request('GET', '/v1/whoami', { token: s });
      await runed.request('GET', '/v1/users', { token: s.slice(0, -1) + 'x' }); // a failed authentication too
    }
    await runed.request('POST', '/v1/users', { token: root, raw: { contentType: 'application/json', data: `{"name": "${alice}` } });
    await runed.stop('SIGTERM');

    const stored = await withTestDb(runed, (db) => db.contents());
    expect(stored).toContain('another'); // the token rows are in what is searched
    for (const s of secrets) {
      const secretPart = s.split('_')[3]!.slice(0, 43);
      expect(stored.includes(s)).toBe(false);
      expect(stored.includes(secretPart)).toBe(false);
      expect(runed.logs.includes(secretPart)).toBe(false);
    }
    expect(runed.logs).toContain('"msg":"request"');
    expect(runed.logs).not.toMatch(/authorization/i);
  });
});
