import { connect, type Socket } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../src/daemon/store/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runed } from '../helpers/runed.js';

const yaml = (data: string) => ({ raw: { contentType: 'application/yaml', data } });
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

describe('hostile policy documents (items 1–4)', () => {
  let runed: Runed;
  let root: string;
  beforeAll(async () => {
    runed = await Runed.start(['--set', 'limits.bodyBytes=4194304']);
    root = await runed.bootstrap();
    await runed.request('POST', '/v1/policies', { token: root, body: { name: 'target', rules: [] } });
  });
  afterAll(() => runed.cleanup());

  const alive = async () => expect((await runed.request('GET', '/healthz')).status).toBe(200);

  const deep: [string, string][] = [
    ['1,000 [', '['.repeat(1000)],
    ['1,000 {', '{'.repeat(1000)],
    ['- - - nesting', `${'- '.repeat(1000)}x`],
    ['a staircase of indented items', Array.from({ length: 400 }, (_, i) => `${' '.repeat(i * 2)}-\n`).join('')],
    ['brackets behind a stray quote', `rules: [a 'b ${'['.repeat(1000)}`],
  ];
  it.each(deep)('%s is a 400 naming the bound, twice, on every route that reads a policy; runed stays up', async (_name, text) => {
    for (let round = 0; round < 2; round++) {
      const lint = await runed.request('POST', '/v1/policies/lint', { token: root, ...yaml(text) });
      expect(lint.status).toBe(200);
      expect(lint.body.valid).toBe(false);
      expect(lint.body.errors[0].message).toMatch(/never nested that deep|more than the limit/);
      for (const [method, path] of [['POST', '/v1/policies'], ['PUT', '/v1/policies/target']] as const) {
        const res = await runed.request(method, path, { token: root, ...yaml(text) });
        expect(res.status).toBe(400);
        expect(res.body.error.message).toMatch(/never nested that deep|more than the limit/);
      }
      const check = await runed.request('POST', '/v1/authz/check', { token: root, body: { verb: 'get', resource: 'services', policy: text } });
      expect(check.status).toBe(400);
      await alive();
    }
  });

  it('anchors and aliases are a 400 with line and column, billion laughs included; never a 500', async () => {
    const laughs = ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefghi'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(', ')}]`)].join('\n');
    const harmless = `name: anchored\nrules:\n  - &r {resource: services, verbs: [get], namespace: dev}\n${Array.from({ length: 120 }, () => '  - *r').join('\n')}\n`;
    for (const text of [laughs, harmless]) {
      const res = await runed.request('POST', '/v1/policies', { token: root, ...yaml(text) });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(/line \d+, column \d+: (anchors|aliases) \(.name\) are not allowed in a policy/);
      const lint = await runed.request('POST', '/v1/policies/lint', { token: root, ...yaml(text) });
      expect(lint.body.valid).toBe(false);
    }
    // A quoted "*" is a wildcard, not an alias.
    const star = await runed.request('POST', '/v1/policies/lint', { token: root, ...yaml('name: star\nrules:\n  - resource: "*"\n    verbs: ["*"]\n    namespace: dev\n') });
    expect(star.body).toMatchObject({ valid: true });
    await alive();
  });

  it('a policy is bounded in bytes and rules, and a lint answer in length', async () => {
    const rules = (n: number) => `name: many\nrules:\n${Array.from({ length: n }, (_, i) => `  - resource: services\n    verbs: [get, frobnicate]\n    namespace: n${i}\n`).join('')}`;
    const huge = rules(30_000); // about 1.7 MB
    const tooBig = await runed.request('POST', '/v1/policies/lint', { token: root, ...yaml(huge) });
    expect(tooBig.body.errors[0].message).toMatch(/more than the limit of 65536 bytes/);
    expect(JSON.stringify(tooBig.body).length).toBeLessThan(2000);
    const tooMany = await runed.request('POST', '/v1/policies', { token: root, body: { name: 'many', rules: Array.from({ length: 1001 }, () => ({ resource: 'services', verbs: ['get'] })) } });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.message).toContain('more than the limit of 1000');
    // 900 rules with an unknown verb each: 900 warnings, of which 50 come back, the rest counted.
    const noisy = await runed.request('POST', '/v1/policies/lint', { token: root, ...yaml(rules(900).slice(0, 65_000).replace(/\n {2}- resource[^-]*$/, '\n')) });
    expect(noisy.body.valid).toBe(true);
    expect(noisy.body.warnings).toHaveLength(50);
    expect(noisy.body.truncated.warnings).toBeGreaterThan(0);
    // Four large lints at once leave the daemon answering.
    const parallel = Array.from({ length: 4 }, () => runed.request('POST', '/v1/policies/lint', { token: root, ...yaml(huge) }));
    await alive();
    await Promise.all(parallel);
  });

  it('the parsed-policy cache keeps one version of each policy, however often it is edited', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runed-cache-'));
    const store = await Store.open(dir);
    try {
      await store.policies.insert({ name: 'edited', description: '', rules: [] }, 0);
      for (let n = 0; n < 300; n++) {
        await store.policies.replace({ name: 'edited', description: '', rules: [{ resource: 'services', verbs: ['get'], namespace: `v${n}` }] }, n);
        expect((await store.policies.rulesOf(['edited']))[0]!.rules[0]!.namespace).toBe(`v${n}`);
      }
      expect(store.policies.cacheSize.entries).toBe(1);
      expect(store.policies.cacheSize.bytes).toBeLessThan(200);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('memory stays bounded over many edits of a large policy held by a caller', async () => {
    const text = (n: number) => `name: target\ndescription: version ${n}\nrules:\n${Array.from({ length: 600 }, (_, i) => `  - resource: services\n    verbs: [get]\n    namespace: ns-${n}-${i}\n`).join('')}`;
    await runed.request('PUT', '/v1/policies/target', { token: root, ...yaml(text(0)) });
    await runed.request('PUT', '/v1/users/root/policies/target', { token: root }); // the auth path parses it
    const before = rssMb(runed.proc.pid!);
    for (let n = 1; n <= 60; n++) {
      expect((await runed.request('PUT', '/v1/policies/target', { token: root, ...yaml(text(n)) })).status).toBe(200);
      await runed.request('GET', '/v1/whoami', { token: root });
    }
    expect(rssMb(runed.proc.pid!) - before).toBeLessThan(60);
  });
});

describe('slow clients and too many connections (item 5)', () => {
  let runed: Runed;
  let root: string;
  beforeAll(async () => {
    runed = await Runed.start(['--set', 'limits.requestTimeout=1s', '--set', 'limits.headersTimeout=1s', '--set', 'limits.maxConnections=20']);
    root = await runed.bootstrap();
  });
  afterAll(() => runed.cleanup());

  const open = () =>
    new Promise<Socket>((resolve, reject) => {
      const url = new URL(runed.url);
      const socket = connect(Number(url.port), url.hostname, () => resolve(socket));
      socket.on('error', reject);
    });
  const closed = (socket: Socket) => new Promise<string>((resolve) => {
    let answer = '';
    socket.on('data', (d) => (answer += d.toString()));
    socket.on('close', () => resolve(answer));
  });

  it('a request whose body never finishes is answered 408 and its connection closed', async () => {
    const socket = await open();
    const done = closed(socket);
    socket.write(`POST /v1/policies/lint HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${root}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"name":`);
    expect(await done).toMatch(/^HTTP\/1\.1 408/);
  });

  it('headers that never finish are cut off too', async () => {
    const socket = await open();
    const done = closed(socket);
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    expect(await done).toMatch(/^HTTP\/1\.1 408|^$/);
  });

  it('connections beyond the cap are refused while the ones already open are served', async () => {
    const sockets: Socket[] = [];
    for (let i = 0; i < 20; i++) sockets.push(await open());
    const extra = await open().catch(() => undefined);
    if (extra) {
      const result = await Promise.race([closed(extra), new Promise<string>((r) => setTimeout(() => r('still open'), 5000))]);
      expect(result).toBe('');
    }
    const first = sockets[0]!;
    const answer = new Promise<string>((resolve) => first.once('data', (d) => resolve(d.toString())));
    first.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await answer).toMatch(/^HTTP\/1\.1 200/);
    for (const s of sockets) s.destroy();
  });
});
