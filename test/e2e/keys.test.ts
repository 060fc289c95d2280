import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/daemon/config.js';
import { Runed, runRuned } from '../helpers/runed.js';

let runed: Runed | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await runed?.cleanup();
  runed = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const tempDir = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
};

const authOf = (r: ReturnType<typeof runRuned>) => Object.values(JSON.parse(r.stdout).auths)[0] as { auth: string };
const basic = (user: string, pw: string) => ({ auth: Buffer.from(`${user}:${pw}`).toString('base64') });

describe('online KEK rotation with RUNE_KEK', () => {
  it('the running daemon takes the new key: password writes keep working, credentials open, no key left on disk', async () => {
    const oldKek = randomBytes(32).toString('base64');
    const newKek = randomBytes(32).toString('base64');
    runed = await Runed.start([], { env: { RUNE_KEK: oldKek } });
    const root = await runed.bootstrap();
    const add = await runed.request('POST', '/v1/registries', { token: root, body: { name: 'r1', server: 'ghcr.io', username: 'bot', password: 'before' } });
    expect(add.status).toBe(201);

    const rotated = runRuned(['kek', 'rotate', '--data-dir', runed.dataDir], { RUNE_KEK: oldKek, RUNE_NEW_KEK: newKek });
    expect(rotated.stderr).toBe('');
    expect(rotated.status).toBe(0);
    expect(rotated.stdout).toMatch(/^re-wrapped 1 data key\(s\) under the new key-encryption key \(id \w+\)\.\nThe running runed \(pid \d+\) took the new key; no copy of it is left on disk\.\nSet RUNE_KEK to the value of RUNE_NEW_KEK/);
    expect(readdirSync(runed.dataDir).filter((f) => f.startsWith('kek'))).toEqual([]);

    const put = await runed.request('PUT', '/v1/registries/r1', { token: root, body: { server: 'ghcr.io', username: 'bot', password: 'after' } });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    const second = await runed.request('POST', '/v1/registries', { token: root, body: { name: 'r2', server: 'quay.io', username: 'q', password: 'two' } });
    expect(second.status).toBe(201);

    for (const [name, user, pw] of [['r1', 'bot', 'after'], ['r2', 'q', 'two']] as const) {
      const r = runRuned(['registry', 'credentials', name, '--data-dir', runed.dataDir], { RUNE_KEK: newKek });
      expect(r.status, r.stderr).toBe(0);
      expect(authOf(r)).toEqual(basic(user, pw));
    }
    const withOld = runRuned(['registry', 'credentials', 'r1', '--data-dir', runed.dataDir], { RUNE_KEK: oldKek });
    expect(withOld.status).toBe(1);

    // The next start needs the new key in RUNE_KEK.
    await runed.stop();
    runed = await Runed.start([], { dataDir: runed.dataDir, env: { RUNE_KEK: newKek } });
    expect((await runed.request('PUT', '/v1/registries/r2', { token: root, body: { server: 'quay.io', username: 'q', password: 'three' } })).status).toBe(200);
  });

  it('a key the daemon cannot find answers 503 with a message, never 500, and the daemon stays up', async () => {
    runed = await Runed.start([], { env: { RUNE_KEK: randomBytes(32).toString('base64') } });
    const root = await runed.bootstrap();
    await runed.request('POST', '/v1/registries', { token: root, body: { name: 'r1', server: 'ghcr.io', username: 'bot', password: 'pw' } });
    // A rotation this daemon was not handed the key of (e.g. done while the lock looked stale).
    const db = new Database(join(runed.dataDir, 'runed.db'));
    db.prepare("UPDATE meta SET value = 'feedfacefeedface' WHERE key = 'kek_id'").run();
    db.close();
    const put = await runed.request('PUT', '/v1/registries/r1', { token: root, body: { server: 'ghcr.io', username: 'bot', password: 'new' } });
    expect(put.status).toBe(503);
    expect(put.body.error).toMatchObject({ code: 'unavailable', message: expect.stringMatching(/^the key-encryption key \(RUNE_KEK, id \w+\) is not the one secrets in .* are sealed with \(id feedfacefeedface\)$/) });
    expect((await runed.request('GET', '/healthz')).status).toBe(200);
    expect((await runed.request('GET', '/v1/registries', { token: root })).status).toBe(200);
  });
});

describe('key files outside the data dir', () => {
  it('--kek-file, --server-key-file and --audit-key-file keep every key out of the data dir; a copy of the data dir holds none', async () => {
    const keys = tempDir('runed-keys-');
    const files = { kek: join(keys, 'kek'), server: join(keys, 'server.key'), audit: join(keys, 'audit.key') };
    const flags = ['--kek-file', files.kek, '--server-key-file', files.server, '--audit-key-file', files.audit];
    runed = await Runed.start(flags);
    const root = await runed.bootstrap();
    expect((await runed.request('POST', '/v1/registries', { token: root, body: { name: 'r', server: 'ghcr.io', username: 'u', password: 'pw' } })).status).toBe(201);
    for (const f of Object.values(files)) expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(readdirSync(runed.dataDir).filter((f) => /kek|key/.test(f))).toEqual([]);

    // File-mode rotation writes the new key beside the configured file, and the daemon follows.
    const before = readFileSync(files.kek, 'utf8');
    const rotated = runRuned(['kek', 'rotate', '--data-dir', runed.dataDir, '--kek-file', files.kek, '--audit-key-file', files.audit]);
    expect(rotated.status, rotated.stderr).toBe(0);
    expect(rotated.stdout).toContain(`The new key is in ${files.kek}`);
    expect(readFileSync(files.kek, 'utf8')).not.toBe(before);
    expect((await runed.request('PUT', '/v1/registries/r', { token: root, body: { server: 'ghcr.io', username: 'u', password: 'pw2' } })).status).toBe(200);
    await runed.stop();

    // The backup: the data dir alone. None of the keys' bytes are in it.
    const backup = tempDir('runed-backup-');
    cpSync(runed.dataDir, backup, { recursive: true });
    const everything = readdirSync(backup).map((f) => readFileSync(join(backup, f)).toString('latin1')).join('');
    for (const f of Object.values(files)) {
      const text = readFileSync(f, 'utf8').trim();
      expect(everything).not.toContain(text);
      expect(everything).not.toContain(Buffer.from(text, 'base64').toString('latin1'));
    }
    // Without its keys the backup opens nothing: the KEK is missing, and the audit trail cannot be checked.
    const noKek = runRuned(['registry', 'credentials', 'r', '--data-dir', backup]);
    expect(noKek.status).toBe(1);
    expect(noKek.stderr).toMatch(/the audit key .* is missing|the key-encryption key .* is missing/);
    expect(runRuned(['audit', 'verify', '--data-dir', backup]).stdout).toContain(`the audit key ${join(backup, 'audit.key')} is missing`);

    // With the keys the same settings restart it: tokens still authenticate, the trail verifies, the secret opens.
    runed = await Runed.start(flags, { dataDir: runed.dataDir });
    expect((await runed.request('GET', '/v1/whoami', { token: root })).status).toBe(200);
    await runed.stop();
    const verified = runRuned(['audit', 'verify', '--data-dir', runed.dataDir, '--audit-key-file', files.audit]);
    expect(verified.stdout, verified.stdout).toMatch(/^audit trail intact: \d+ event\(s\) verified\n$/);
    const creds = runRuned(['registry', 'credentials', 'r', '--data-dir', runed.dataDir, ...flags]);
    expect(creds.status, creds.stderr).toBe(0);
    expect(authOf(creds)).toEqual(basic('u', 'pw2'));
    expect(existsSync(join(runed.dataDir, 'audit.key'))).toBe(false);
  });

  it('the settings come from the file, RUNE_KEYS_… and flags like every other', () => {
    const env = { RUNE_KEYS_KEK_FILE: '/etc/rune/kek', RUNE_KEYS_SERVER_KEY_FILE: 'rel/server.key', RUNE_AUDIT_HEAD_FILE: '/var/log/rune/audit.head' };
    const config = loadConfig(['--audit-key-file', '/etc/rune/audit.key'], env);
    expect(config.keys).toEqual({ kekFile: '/etc/rune/kek', serverKeyFile: join(process.cwd(), 'rel/server.key'), auditKeyFile: '/etc/rune/audit.key' });
    expect(config.audit).toEqual({ headFile: '/var/log/rune/audit.head' });
    expect(loadConfig([], {}).keys).toEqual({});
    expect(() => loadConfig(['--kek-file'], {})).toThrow('--kek-file needs a value');
  });

  it('a key file that cannot be created is a clear startup error', () => {
    const dataDir = tempDir('runed-nokeydir-');
    const r = runRuned(['--data-dir', dataDir, '--listen', '127.0.0.1:0', '--server-key-file', '/nonexistent/dir/server.key']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('runed: cannot create the key file /nonexistent/dir/server.key: ENOENT\n');
  });
});
