import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Runed } from '../helpers/runed.js';
import { withTestDb } from '../helpers/storeDb.js';

let runed: Runed | undefined;
afterEach(async () => {
  await runed?.cleanup();
  runed = undefined;
});

const PASSWORD = 'ghp_' + 'S3cr3tRegistryPassw0rd'.repeat(2);

async function withRegistry() {
  runed = await Runed.start();
  const root = await runed.bootstrap();
  const res = await runed.request('POST', '/v1/registries', { token: root, body: { name: 'ghcr-private', server: 'ghcr.io', username: 'my-bot', password: PASSWORD } });
  expect(res.status).toBe(201);
  return { runed, root };
}

describe('registry credentials', () => {
  it('add, list, get, replace, remove; the password is write-only', async () => {
    const { runed, root } = await withRegistry();
    const list = await runed.request('GET', '/v1/registries', { token: root });
    expect(list.body.items).toEqual([expect.objectContaining({ name: 'ghcr-private', server: 'ghcr.io', type: 'docker', username: 'my-bot', hasPassword: true })]);
    expect(JSON.stringify(list.body)).not.toContain(PASSWORD);
    const got = await runed.request('GET', '/v1/registries/ghcr-private', { token: root });
    expect(Object.keys(got.body).sort()).toEqual(['createdAt', 'hasPassword', 'name', 'server', 'type', 'updatedAt', 'username']);

    const replaced = await runed.request('PUT', '/v1/registries/ghcr-private', { token: root, body: { server: 'ghcr.io', username: 'other-bot' } });
    expect(replaced.body).toMatchObject({ username: 'other-bot', hasPassword: true });
    const ecr = await runed.request('POST', '/v1/registries', { token: root, body: { name: 'ecr', type: 'ecr', server: '123456789012.dkr.ecr.eu-west-1.amazonaws.com', region: 'eu-west-1' } });
    expect(ecr.body).toMatchObject({ type: 'ecr', region: 'eu-west-1', hasPassword: false });

    expect((await runed.request('DELETE', '/v1/registries/ecr', { token: root })).status).toBe(200);
    expect((await runed.request('GET', '/v1/registries/ecr', { token: root })).status).toBe(404);
  });

  it.each([
    [{ name: 'a', server: 'ghcr.io', username: 'u' }, 'password is required'],
    [{ name: 'a', server: 'ghcr.io', password: 'p' }, 'username is required'],
    [{ name: 'a', server: 'https://ghcr.io', username: 'u', password: 'p' }, 'without a scheme'],
    [{ name: 'a', type: 'ecr', server: 'x.amazonaws.com' }, 'region is required'],
    [{ name: 'a', type: 'ecr', server: 'x.amazonaws.com', region: 'eu-west-1', password: 'p' }, 'takes no username or password'],
    [{ name: 'a', type: 'quay', server: 'quay.io' }, 'type must be one of docker, ecr'],
    [{ name: 'a', server: 'ghcr.io', username: 'u', passwd: 'p' }, 'unknown field "passwd"'],
  ])('%j → 400 %s', async (body, message) => {
    runed = await Runed.start();
    const root = await runed.bootstrap();
    const res = await runed.request('POST', '/v1/registries', { token: root, body });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain(message);
    expect((await runed.request('GET', '/v1/registries', { token: root })).body.items).toEqual([]);
  });

  it('the plaintext password never appears in the data dir files', async () => {
    const { runed } = await withRegistry();
    await runed.stop();
    const stored = await withTestDb(runed, (db) => db.contents());
    expect(stored).toContain('ghcr-private'); // the registry is there, so its secret would be too
    expect(stored).not.toContain(PASSWORD);
    expect(stored).not.toContain(Buffer.from(`my-bot:${PASSWORD}`).toString('base64'));
  });

  it('runed registry credentials opens it on the host; a tampered ciphertext is refused, never garbage', async () => {
    const { runed } = await withRegistry();
    const ok = runed.host(['registry', 'credentials', 'ghcr-private']);
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ auths: { 'ghcr.io': { auth: Buffer.from(`my-bot:${PASSWORD}`).toString('base64') } } });

    await withTestDb(runed, async (db) => {
      const { sealed } = (await db.get<{ sealed: string }>('SELECT sealed FROM registries'))!;
      const bytes = Buffer.from(sealed, 'base64');
      bytes[bytes.length - 1]! ^= 0x01;
      await db.run('UPDATE registries SET sealed = ?', [bytes.toString('base64')]);
    });
    const bad = runed.host(['registry', 'credentials', 'ghcr-private']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe('runed: cannot open the password of registry "ghcr-private": authentication failed: the value was tampered with or sealed under another key\n');
    expect(bad.stdout).toBe('');
  });

  it('kek rotate re-wraps every data key while runed serves; the old KEK opens nothing afterwards', async () => {
    const { runed, root } = await withRegistry();
    await runed.request('POST', '/v1/registries', { token: root, body: { name: 'second', server: 'registry.example.com:5000', username: 'bot', password: 'pw-two' } });
    const oldKek = readFileSync(join(runed.dataDir, 'kek'), 'utf8').trim();

    const rotated = runed.host(['kek', 'rotate']);
    expect(rotated.status).toBe(0);
    expect(rotated.stdout).toMatch(/re-wrapped 2 data key\(s\)/);
    const newKek = readFileSync(join(runed.dataDir, 'kek'), 'utf8').trim();
    expect(newKek).not.toBe(oldKek);

    // The running daemon picks up the new key: a registry written now is sealed under it and readable.
    const third = await runed.request('POST', '/v1/registries', { token: root, body: { name: 'third', server: 'r3.example.com', username: 'u3', password: 'pw-three' } });
    expect(third.status).toBe(201);
    for (const [name, user, pw] of [['ghcr-private', 'my-bot', PASSWORD], ['second', 'bot', 'pw-two'], ['third', 'u3', 'pw-three']]) {
      const r = runed.host(['registry', 'credentials', name!]);
      expect(r.status, r.stderr).toBe(0);
      expect(Object.values(JSON.parse(r.stdout).auths)[0]).toEqual({ auth: Buffer.from(`${user}:${pw}`).toString('base64') });
    }
    const withOld = runed.host(['registry', 'credentials', 'second'], { RUNE_KEK: oldKek });
    expect(withOld.status).toBe(1);
    expect(withOld.stderr).toMatch(/is not the one secrets in .* are sealed with/);
  });

  it('a wrong or missing KEK is a clear startup error', async () => {
    const { runed: first } = await withRegistry();
    await first.stop();
    const dataDir = first.dataDir;
    const wrong = first.host(['--listen', '127.0.0.1:0'], { RUNE_KEK: randomBytes(32).toString('base64') });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/^runed: the key-encryption key \(RUNE_KEK, id \w+\) is not the one secrets in .* are sealed with \(id \w+\)\n$/);
    const malformed = first.host(['--listen', '127.0.0.1:0'], { RUNE_KEK: 'short' });
    expect(malformed.stderr).toMatch(/RUNE_KEK must hold a 32-byte key, base64-encoded/);
    rmSync(join(dataDir, 'kek'));
    const missing = first.host(['--listen', '127.0.0.1:0']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/the key-encryption key .*kek is missing, but secrets in .* are sealed with key \w+: restore the file or set RUNE_KEK/);
  });

  it('RUNE_KEK works in place of the file', async () => {
    const kek = randomBytes(32).toString('base64');
    runed = await Runed.start([], { env: { RUNE_KEK: kek } });
    const root = await runed.bootstrap();
    await runed.request('POST', '/v1/registries', { token: root, body: { name: 'r', server: 'ghcr.io', username: 'u', password: 'p' } });
    expect(readdirSync(runed.dataDir)).not.toContain('kek');
    const r = runed.host(['registry', 'credentials', 'r'], { RUNE_KEK: kek });
    expect(r.status).toBe(0);
  });
});
