#!/usr/bin/env node
// npm run bench: runs the real programs and prints figures; writes bench/results.json.
// Comparisons are made side by side in the same run, as ratios, since machines are noisy.
import autocannon from 'autocannon';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNED = join(ROOT, 'bin/runed');
const RUNE = join(ROOT, 'bin/rune');
const DURATION = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 20;
const { Store } = await import(join(ROOT, 'dist/daemon/store/index.js'));
const { loadServerKey } = await import(join(ROOT, 'dist/daemon/crypto.js'));
const { issueToken } = await import(join(ROOT, 'dist/daemon/issue.js'));
const { newId } = await import(join(ROOT, 'dist/core/tokenFormat.js'));

const results = { machine: { cpus: cpus().length, model: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version }, at: new Date().toISOString(), figures: {} };
const rows = [];
const record = (section, name, value, unit, goal, ok) => {
  results.figures[`${section}: ${name}`] = { value, unit, goal, ok };
  rows.push([section, name, `${value} ${unit}`, goal ?? '', ok === undefined ? '' : ok ? 'met' : 'MISSED']);
};
const round = (n, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

/** A real runed on a free port (with more flags and environment); ready once its address file is written and /healthz answers. */
async function startRuned(dataDir, logLevel = 'warn', runed = RUNED, { args = [], env = {} } = {}) {
  rmSync(join(dataDir, 'runed.addr'), { force: true });
  const proc = spawn(process.execPath, [runed, '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--log-level', logLevel, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env },
  });
  let err = '';
  proc.stderr.on('data', (d) => (err += d));
  const started = Date.now();
  for (;;) {
    try {
      const url = readFileSync(join(dataDir, 'runed.addr'), 'utf8').trim();
      if ((await fetch(`${url}/healthz`)).ok) return { proc, url };
    } catch {}
    if (Date.now() - started > 20000 || proc.exitCode !== null) throw new Error(`runed did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const stop = (proc) => new Promise((r) => (proc.exitCode !== null ? r() : (proc.on('exit', r), proc.kill('SIGTERM'))));
const rss = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
/** Idle means idle: V8 keeps the young generation it grew while starting until its memory reducer runs, ~10–20 s later. */
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 25_000);
const settledRss = async (pid) => (await new Promise((r) => setTimeout(r, SETTLE_MS)), rss(pid));

function load(url, headers = {}, opts = {}) {
  return new Promise((resolve, reject) =>
    autocannon({ url, connections: opts.connections ?? CONNECTIONS, duration: opts.duration ?? DURATION, headers, method: opts.method ?? 'GET', ...(opts.body ? { body: opts.body } : {}), ...(opts.requests ? { requests: opts.requests } : {}) }, (err, res) => (err ? reject(err) : resolve(res))),
  );
}

async function bootstrap(url) {
  const res = await fetch(`${url}/v1/bootstrap`, { method: 'POST' });
  return (await res.json()).secret;
}

/** Fills a data dir directly through the store: tokens, users, policies. */
async function populate(dataDir, { tokens, users, policies }) {
  const store = await Store.open(dataDir);
  const key = loadServerKey(dataDir);
  const now = Date.now();
  await store.transaction(async (tx) => {
    for (let p = 0; p < policies; p++) await tx.policies.insert({ name: `bench-p${p}`, description: '', rules: [{ resource: 'configmaps', verbs: ['get'], namespace: `ns-${p}` }] }, now);
    const user = (name) => ({ id: newId('usr'), name, type: 'user', email: null, namespace: null, permissions: null, description: '', derived_policies: '[]', created_at: now, updated_at: now });
    for (let u = 0; u < users; u++) await tx.subjects.insert(user(`bench-u${u}`));
    const owner = user('bench-owner');
    await tx.subjects.insert(owner);
    for (let t = 0; t < tokens; t++) await issueToken(tx, key, { subject: owner, name: `bench-t${t}`, policies: [], ttlMs: null, description: '', kind: 'derived', now: now - tokens + t });
  });
  await store.close();
}

/** A user holding 50 policies, the allowing one last; returns its bearer token. */
async function userWith50Policies(dataDir) {
  const store = await Store.open(dataDir);
  const key = loadServerKey(dataDir);
  const now = Date.now();
  const bearer = await store.transaction(async (tx) => {
    const user = { id: newId('usr'), name: 'fifty', type: 'user', email: null, namespace: null, permissions: null, description: '', derived_policies: '[]', created_at: now, updated_at: now };
    await tx.subjects.insert(user);
    for (let p = 0; p < 49; p++) {
      await tx.policies.insert({ name: `fifty-${p}`, description: '', rules: [{ resource: 'secrets', verbs: ['get'], namespace: `x${p}` }, { resource: 'services', verbs: ['get'], namespace: `x${p}` }] }, now);
      await tx.subjects.attach(user.id, `fifty-${p}`);
    }
    await tx.policies.insert({ name: 'fifty-last', description: '', rules: [{ resource: 'namespaces', verbs: ['list'], namespace: '*' }] }, now);
    await tx.subjects.attach(user.id, 'fifty-last');
    return (await issueToken(tx, key, { subject: user, name: 'fifty', policies: [], ttlMs: null, description: '', kind: 'derived', now })).bearer;
  });
  await store.close();
  return bearer;
}

const tmp = (name) => mkdtempSync(join(tmpdir(), `rune-bench-${name}-`));
const dirs = [];

async function authHotPath(logLevel, measureIdle = false) {
  const dir = tmp('auth');
  dirs.push(dir);
  const { proc, url } = await startRuned(dir, logLevel);
  const token = await bootstrap(url);
  await new Promise((r) => setTimeout(r, 500));
  const started = rss(proc.pid);
  const idle = measureIdle ? await settledRss(proc.pid) : undefined;
  const body = JSON.stringify(await (await fetch(`${url}/v1/whoami`, { headers: { authorization: `Bearer ${token}` } })).json());
  const bare = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    res.end(body);
  });
  await new Promise((r) => bare.listen(0, '127.0.0.1', r));
  const bareUrl = `http://127.0.0.1:${bare.address().port}/`;
  // Warm up both, then measure one after the other with the same connections and duration.
  await load(`${url}/v1/whoami`, { authorization: `Bearer ${token}` }, { duration: 1 });
  await load(bareUrl, {}, { duration: 1 });
  // Interleaved rounds (runed, bare, runed, bare, …): this machine's speed drifts, a ratio of medians does not.
  const rounds = { r: [], b: [] };
  for (let i = 0; i < 3; i++) {
    rounds.r.push(await load(`${url}/v1/whoami`, { authorization: `Bearer ${token}` }, { duration: Math.max(2, DURATION / 2) }));
    rounds.b.push(await load(bareUrl, {}, { duration: Math.max(2, DURATION / 2) }));
  }
  const byRps = (xs) => [...xs].sort((x, y) => x.requests.average - y.requests.average)[1];
  const r = byRps(rounds.r);
  const b = byRps(rounds.b);
  bare.close();
  const ratio = r.requests.average / b.requests.average;
  const tag = `log.level ${logLevel}`;
  record('auth', `runed GET /v1/whoami (${tag})`, round(r.requests.average, 0), 'req/s');
  record('auth', 'bare node:http, same body', round(b.requests.average, 0), 'req/s');
  record('auth', `throughput ratio runed/bare (${tag})`, round(ratio), '×', '>= 0.7', ratio >= 0.7);
  record('auth', `runed latency p50 / p99 (${tag})`, `${r.latency.p50} / ${r.latency.p99}`, 'ms');
  record('auth', 'bare latency p50 / p99', `${b.latency.p50} / ${b.latency.p99}`, 'ms');
  if (r.non2xx) record('auth', 'non-2xx answers', r.non2xx, '', '0', false);
  const loaded = rss(proc.pid);
  await stop(proc);
  return { startedRss: started, idleRss: idle, loadedRss: loaded };
}

/**
 * A bare node:http server sending `body` to every request, in its own process like runed: in the
 * bench's process it would share one thread with the load generator.
 */
async function startBare(dir, body) {
  const file = join(dir, 'bare-body');
  writeFileSync(file, body);
  const script = `const b = require('fs').readFileSync(${JSON.stringify(file)}); const s = require('http').createServer((q, r) => { r.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }); r.end(b); }); s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;
  const proc = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve) => proc.stdout.once('data', (d) => resolve(String(d).trim())));
  return { proc, url: `http://127.0.0.1:${port}/` };
}

/** A page of 100 tokens from runed against a bare node:http server sending the same bytes; then the cost of a validated write. */
async function apiThroughput() {
  const dir = tmp('list');
  dirs.push(dir);
  const { proc, url } = await startRuned(dir);
  const token = await bootstrap(url);
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  for (let i = 0; i < 99; i++) await fetch(`${url}/v1/tokens`, { method: 'POST', headers, body: JSON.stringify({ name: `t${i}`, description: 'a token for the list benchmark' }) });
  const listUrl = `${url}/v1/tokens?limit=100`;
  const body = await (await fetch(listUrl, { headers })).text();
  const bare = await startBare(dir, body);
  const bareUrl = bare.url;
  // Every request a cache miss: ?limit=100…1000 over 100 tokens is the same bytes under 901 keys, more than the cache holds.
  let limit = 99;
  const uncached = [{ setupRequest: (req) => ({ ...req, path: `/v1/tokens?limit=${(limit = limit >= 1000 ? 100 : limit + 1)}` }) }];
  await load(listUrl, headers, { duration: 1 });
  await load(bareUrl, {}, { duration: 1 });
  await load(listUrl, headers, { duration: 1, requests: uncached });
  const rounds = { r: [], b: [], u: [] };
  for (let i = 0; i < 5; i++) {
    rounds.r.push(await load(listUrl, headers, { duration: Math.max(2, DURATION / 2) }));
    rounds.b.push(await load(bareUrl, {}, { duration: Math.max(2, DURATION / 2) }));
    rounds.u.push(await load(listUrl, headers, { duration: Math.max(2, DURATION / 2), requests: uncached }));
  }
  await stop(bare.proc);
  // Each round's ratio to the bare server of the same round, then the median: the machine's speed drifts between rounds.
  const ratios = (xs) => xs.map((x, i) => x.requests.average / rounds.b[i].requests.average);
  const rps = (xs) => median(xs.map((x) => x.requests.average));
  const ratio = median(ratios(rounds.r));
  const missRatio = median(ratios(rounds.u));
  record('api', `runed GET /v1/tokens?limit=100 (${Math.round(body.length / 1024)} KB)`, round(rps(rounds.r), 0), 'req/s');
  record('api', 'bare node:http, same bytes', round(rps(rounds.b), 0), 'req/s');
  record('api', 'list throughput ratio runed/bare', round(ratio), '×', '>= 0.5', ratio >= 0.5);
  record('api', '  per round', ratios(rounds.r).map((x) => round(x)).join(' / '), '×');
  record('api', 'same, every request a page-cache miss', round(rps(rounds.u), 0), 'req/s');
  record('api', '  its ratio runed/bare, per round', `${round(missRatio)} (${ratios(rounds.u).map((x) => round(x)).join(' / ')})`, '×');
  // A validated, audited, durable write: schema check, escalation guard, one fsync'd transaction.
  const create = await load(`${url}/v1/tokens`, headers, { method: 'POST', body: JSON.stringify({ name: 'bench', ttl: '1h' }), duration: Math.max(2, DURATION / 2), connections: 4 });
  record('api', 'POST /v1/tokens (validated, audited, fsync per commit)', round(create.requests.average, 0), 'req/s');
  if (create.non2xx) record('api', 'non-2xx answers to token creation', create.non2xx, '', '0', false);
  await stop(proc);
}

/**
 * Validation cost: whoami and a token create against this build and, with BENCH_BEFORE=<a built
 * checkout of an older commit>, against that one too, interleaved, medians of 3 rounds each.
 */
async function validationCost() {
  const before = process.env.BENCH_BEFORE;
  const builds = [['now', RUNED], ...(before ? [['before', join(before, 'bin/runed')]] : [])];
  const servers = [];
  for (const [tag, runed] of builds) {
    const dir = tmp(`validation-${tag}`);
    dirs.push(dir);
    const { proc, url } = await startRuned(dir, 'warn', runed);
    const token = await bootstrap(url);
    servers.push({ tag, proc, url, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, whoami: [], create: [] });
  }
  const whoami = (s, duration) => load(`${s.url}/v1/whoami`, { authorization: s.headers.authorization }, { duration });
  const create = (s, duration) => load(`${s.url}/v1/tokens`, s.headers, { method: 'POST', body: JSON.stringify({ name: 'bench', ttl: '1h' }), duration, connections: 4 });
  for (const s of servers) await whoami(s, 1);
  for (let i = 0; i < 3; i++) {
    for (const s of servers) s.whoami.push((await whoami(s, Math.max(2, DURATION / 2))).requests.average);
    for (const s of servers) s.create.push((await create(s, Math.max(2, DURATION / 2))).requests.average);
  }
  for (const s of servers) {
    record('valid', `GET /v1/whoami, ${s.tag} (20 connections)`, round(median(s.whoami), 0), 'req/s');
    record('valid', `POST /v1/tokens, ${s.tag} (4 connections, fsync per commit)`, round(median(s.create), 0), 'req/s');
    await stop(s.proc);
  }
  if (servers.length === 2) {
    const [now, old] = servers;
    record('valid', 'whoami now/before (median of per-round ratios)', round(median(now.whoami.map((v, i) => v / old.whoami[i]))), '×');
    record('valid', 'token create now/before (median of per-round ratios)', round(median(now.create.map((v, i) => v / old.create[i]))), '×');
  }
}

async function scale() {
  const small = tmp('small');
  const big = tmp('big');
  dirs.push(small, big);
  const t0 = Date.now();
  await populate(small, { tokens: 100, users: 0, policies: 0 });
  await populate(big, { tokens: 100_000, users: 10_000, policies: 1_000 });
  record('scale', 'populate 100,000 tokens + 10,000 users + 1,000 policies', round((Date.now() - t0) / 1000, 1), 's');
  const fifty = await userWith50Policies(big);
  const a = await startRuned(small);
  const b = await startRuned(big);
  const rootA = await bootstrap(a.url);
  const rootB = await bootstrap(b.url);
  const idleBig = await settledRss(b.proc.pid);
  await load(`${a.url}/v1/whoami`, { authorization: `Bearer ${rootA}` }, { duration: 1 });
  await load(`${b.url}/v1/whoami`, { authorization: `Bearer ${rootB}` }, { duration: 1 });
  // Interleaved twice (small, big, small, big), each side's mean of means: less at the mercy of noise.
  const means = { a: [], b: [] };
  for (let i = 0; i < 2; i++) {
    means.a.push((await load(`${a.url}/v1/whoami`, { authorization: `Bearer ${rootA}` }, { duration: DURATION / 2 })).latency.mean);
    means.b.push((await load(`${b.url}/v1/whoami`, { authorization: `Bearer ${rootB}` }, { duration: DURATION / 2 })).latency.mean);
  }
  const ra = { latency: { mean: (means.a[0] + means.a[1]) / 2 } };
  const rb = { latency: { mean: (means.b[0] + means.b[1]) / 2 } };
  const ratio = rb.latency.mean / ra.latency.mean;
  record('scale', 'whoami mean latency, 100 tokens', round(ra.latency.mean), 'ms');
  record('scale', 'whoami mean latency, 100,000 tokens', round(rb.latency.mean), 'ms');
  record('scale', 'latency ratio 100,000 / 100 tokens', round(ratio), '×', '<= 1.2', ratio <= 1.2);

  const page = await load(`${b.url}/v1/tokens?limit=100`, { authorization: `Bearer ${rootB}` }, { connections: 1 });
  record('scale', 'GET /v1/tokens?limit=100 p50 with 100,000 tokens', page.latency.p50, 'ms', '<= 10', page.latency.p50 <= 10);
  const filtered = await load(`${b.url}/v1/tokens?limit=100&status=active`, { authorization: `Bearer ${rootB}` }, { connections: 1, duration: 2 });
  record('scale', 'same, ?status=active, p50', filtered.latency.p50, 'ms');

  const authz = await load(`${b.url}/v1/namespaces`, { authorization: `Bearer ${fifty}` });
  record('scale', 'authorize a subject with 50 policies (GET /v1/namespaces)', round(authz.requests.average, 0), 'req/s');
  record('scale', '  its latency p50 / p99', `${authz.latency.p50} / ${authz.latency.p99}`, 'ms');

  // Who-can walks every subject and each distinct narrowing of the live tokens, never the tokens one by one.
  const whoCan = await load(`${b.url}/v1/authz/who-can?verb=delete&resource=services&namespace=prod`, { authorization: `Bearer ${rootB}` }, { connections: 1, duration: 2 });
  record('scale', 'GET /v1/authz/who-can, 10,000 users + 100,000 tokens, p50 / p99', `${whoCan.latency.p50} / ${whoCan.latency.p99}`, 'ms');
  if (whoCan.non2xx) record('scale', 'non-2xx answers to who-can', whoCan.non2xx, '', '0', false);

  const created = await load(`${b.url}/v1/tokens`, { authorization: `Bearer ${rootB}`, 'content-type': 'application/json' }, { method: 'POST', body: JSON.stringify({ name: 'bench' }), connections: 4, duration: 3 });
  record('scale', 'token creation, durable (fsync per commit)', round(created.requests.average, 0), 'tokens/s');

  await fetch(`${b.url}/v1/tokens?limit=1000`, { headers: { authorization: `Bearer ${rootB}` } });
  const busyBig = rss(b.proc.pid);
  await stop(a.proc);
  await stop(b.proc);
  return { idleBig, busyBig, dir: big, root: rootB };
}

/** ?search= over 100,000 tokens: a rare match (the trigram index), a common one (the sort index), sorted. */
async function searchLatency() {
  const dir = tmp('search');
  dirs.push(dir);
  await populate(dir, { tokens: 100_000, users: 0, policies: 0 });
  const store = await Store.open(dir);
  const key = loadServerKey(dir);
  const owner = await store.subjects.getByName('bench-owner');
  for (const name of ['ci-needle-1', 'ops-NEEDLE-2']) await store.transaction((tx) => issueToken(tx, key, { subject: owner, name, policies: [], ttlMs: null, description: '', kind: 'derived', now: Date.now() - 50_000 }));
  await store.close();
  const d = await startRuned(dir);
  const root = await bootstrap(d.url);
  const auth = { authorization: `Bearer ${root}` };
  const check = await (await fetch(`${d.url}/v1/tokens?limit=100&search=needle`, { headers: auth })).json();
  if (check.items.length !== 2 || check.total !== 2) throw new Error(`search=needle found ${check.items.length} (total ${check.total}), expected 2`);
  const cases = [
    ['rare match (2 of 100,002), page + total', 'search=needle'],
    ['common match (bench-t1…), page + capped total', 'search=bench-t1'],
    ['rare match, sorted -name', 'search=needle&sort=-name'],
    ['common match, sorted by expiry', 'search=bench-t5&sort=expires'],
  ];
  for (const [label, query] of cases) {
    const r = await load(`${d.url}/v1/tokens?limit=100&${query}`, auth, { connections: 1, duration: 2 });
    record('search', `GET /v1/tokens ${label}, p50 (p99 ${r.latency.p99} ms)`, r.latency.p50, 'ms', '<= 50', r.latency.p50 <= 50);
    console.error(`search ${query}: p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms`);
  }
  await stop(d.proc);
}

function median(values) {
  const s = [...values].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
}

function time(args, env = {}) {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env: { ...process.env, ...env }, encoding: 'utf8' });
  if (r.status !== 0 && !args.includes('-e')) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

async function cliStart() {
  const dir = tmp('cli');
  dirs.push(dir);
  const { proc, url } = await startRuned(dir);
  const token = await bootstrap(url);
  const env = { RUNE_SERVER: url, RUNE_TOKEN: token, HOME: dir };
  const commands = [['--version'], ['admin', 'token', 'list', '-o', 'json'], ['whoami']];
  const samples = { base: [], ...Object.fromEntries(commands.map((c) => [c.join(' '), []])) };
  // Interleaved: node -e 0, then each command, nine times over.
  for (let i = 0; i < 9; i++) {
    samples.base.push(time(['-e', '0']));
    for (const args of commands) samples[args.join(' ')].push(time([RUNE, ...args], env));
  }
  const base = median(samples.base);
  record('cli', 'node -e 0', round(base, 0), 'ms');
  for (const args of commands) {
    const m = median(samples[args.join(' ')]);
    record('cli', `rune ${args.join(' ')}`, `${round(m, 0)} (+${round(m - base, 0)})`, 'ms', '+<= 120', m - base <= 120);
  }
  await stop(proc);
}

async function tui(big) {
  // Drive the real App in-process against the 100,000-token daemon, with fake 80×24 streams.
  const { EventEmitter } = await import('node:events');
  const React = (await import('react')).default;
  const { render } = await import('ink');
  const { App } = await import(join(ROOT, 'dist/app/App.js'));
  const { ContextStore } = await import(join(ROOT, 'dist/config/contexts.js'));
  const { proc, url } = await startRuned(big.dir);
  const cfg = tmp('tui-cfg');
  dirs.push(cfg);
  const token = big.root;
  const store = new ContextStore(join(cfg, 'config.yaml'));
  store.set('bench', { server: url, token });
  store.use('bench');

  class Out extends EventEmitter {
    columns = 80;
    rows = 24;
    isTTY = true;
    last = '';
    writes = 0;
    write = (s) => ((this.last = s), this.writes++, true);
  }
  class In extends EventEmitter {
    isTTY = true;
    buf = null;
    setEncoding() {}
    setRawMode() {}
    resume() {}
    pause() {}
    ref() {}
    unref() {}
    read = () => {
      const b = this.buf;
      this.buf = null;
      return b;
    };
    push(s) {
      this.buf = s;
      this.emit('readable');
    }
  }
  const stdout = new Out();
  const stdin = new In();
  const t0 = performance.now();
  const app = render(React.createElement(App, { store, env: {} }), { stdout, stderr: new Out(), stdin, debug: true, exitOnCtrlC: false, patchConsole: false });
  const firstFrame = await until(() => stdout.writes > 0);
  const firstRows = await until(() => /bench-t/.test(stdout.last));
  record('tui', 'launch to first frame', round(firstFrame - t0, 0), 'ms');
  record('tui', 'launch to first page of tokens on screen', round(firstRows - t0, 0), 'ms');

  const keyLatency = async (key, n) => {
    const samples = [];
    for (let i = 0; i < n; i++) {
      const before = stdout.writes;
      const t = performance.now();
      stdin.push(key);
      const done = await until(() => stdout.writes > before);
      samples.push(done - t);
      await new Promise((r) => setTimeout(r, 5));
    }
    return samples;
  };
  const scroll = await keyLatency('\x1b[6~', 40);
  record('tui', 'page down through 100,000-token list, p50 / max', `${round(median(scroll), 1)} / ${round(Math.max(...scroll), 1)}`, 'ms', '<= 30', median(scroll) <= 30);
  stdin.push('/');
  await new Promise((r) => setTimeout(r, 50));
  const typed = await keyLatency('7', 5);
  record('tui', 'filter keypress over loaded tokens, p50 / max', `${round(median(typed), 1)} / ${round(Math.max(...typed), 1)}`, 'ms', '<= 30', median(typed) <= 30);
  app.unmount();
  await stop(proc);
}

/** Fake terminal streams for the input benches: stdin delivers each push as one read. */
async function fakeTerminal() {
  const { EventEmitter } = await import('node:events');
  class Out extends EventEmitter {
    columns = 80;
    rows = 24;
    isTTY = true;
    last = '';
    writes = 0;
    write = (s) => ((this.last = s), this.writes++, true);
  }
  class In extends EventEmitter {
    isTTY = true;
    bufs = [];
    setEncoding() {}
    setRawMode() {}
    resume() {}
    pause() {}
    ref() {}
    unref() {}
    read = () => this.bufs.shift() ?? null;
    push(s) {
      this.bufs.push(s);
      this.emit('readable');
    }
  }
  return { stdout: new Out(), stdin: new In(), stderr: new Out() };
}

async function tuiInput() {
  // The keypress stream (issue 12): a burst with no render between reads, and a large paste.
  const React = (await import('react')).default;
  const { render } = await import('ink');
  const { InputProvider, PRIORITY, useKeys } = await import(join(ROOT, 'dist/tui/input.js'));
  const { TextFieldView, useTextField } = await import(join(ROOT, 'dist/components/TextField.js'));
  const { YamlEditor } = await import(join(ROOT, 'dist/components/YamlEditor.js'));
  const { themeFor } = await import(join(ROOT, 'dist/tui/theme.js'));
  const h = React.createElement;

  {
    let value = '';
    function Probe() {
      const field = useTextField('');
      useKeys(PRIORITY.form, (name, _input, key) => field.onKey(name, key) || true);
      value = field.value;
      return h(TextFieldView, { state: field.state });
    }
    const { stdout, stdin, stderr } = await fakeTerminal();
    const app = render(h(InputProvider, null, h(Probe)), { stdout, stderr, stdin, debug: true, exitOnCtrlC: false, patchConsole: false });
    await new Promise((r) => setTimeout(r, 20));
    const text = Array.from({ length: 10_000 }, (_, i) => String.fromCharCode(33 + ((i * 7) % 90))).join('');
    const t = performance.now();
    // 64 characters per read, back to back, as a terminal delivers a held key or fast typing.
    for (let i = 0; i < text.length; i += 64) stdin.push(text.slice(i, i + 64));
    const done = await until(() => value.length >= text.length);
    const perSecond = Math.round(text.length / ((done - t) / 1000));
    const lossless = value === text;
    record('tui', 'keys accepted from a 10,000-character burst (64 per read), lost', `${perSecond}/s, ${lossless ? 0 : Math.abs(text.length - value.length) || 'some'}`, 'keys', '>= 2000/s, 0 lost', lossless && perSecond >= 2000);
    app.unmount();
  }

  {
    const { stdout, stdin, stderr } = await fakeTerminal();
    const editor = h(YamlEditor, { title: 'bench', initial: '', saved: '', height: 22, width: 80, onSave: async () => {}, onClose: () => {}, theme: themeFor({ NO_COLOR: '1' }) });
    const app = render(h(InputProvider, null, editor), { stdout, stderr, stdin, debug: true, exitOnCtrlC: false, patchConsole: false });
    await new Promise((r) => setTimeout(r, 20));
    const lines = ['name: pasted', 'description: "10 KB paste"', 'rules:'];
    while (lines.join('\n').length < 10_240 - 80) lines.push(`  - resource: services`, `    verbs: [get, list]`, `    namespace: ns-${lines.length}`);
    const text = lines.join('\n');
    const raw = `\x1b[200~${text}\x1b[201~`;
    const t = performance.now();
    for (let i = 0; i < raw.length; i += 1024) stdin.push(raw.slice(i, i + 1024));
    const last = lines.at(-1);
    const settled = await until(() => stdout.last.includes(`Ln ${lines.length}, Col ${last.length + 1}`));
    record('tui', `settle after a 10 KB paste into the editor (${lines.length} lines)`, round(settled - t, 0), 'ms', '<= 250', settled - t <= 250);
    app.unmount();
  }
}

async function until(check, timeoutMs = 30000) {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setImmediate(r));
  }
  return performance.now();
}

const started = Date.now();
try {
  // BENCH_ONLY=input runs just the keypress-stream rows (seconds instead of minutes).
  // BENCH_ONLY=api runs the list throughput and validated-write rows; BENCH_ONLY=search the search rows.
  if (process.env.BENCH_ONLY === 'input') await tuiInput();
  else if (process.env.BENCH_ONLY === 'api') await apiThroughput();
  else if (process.env.BENCH_ONLY === 'search') await searchLatency();
  // BENCH_ONLY=validation [BENCH_BEFORE=<built older checkout>]: whoami and token create, now vs before.
  else if (process.env.BENCH_ONLY === 'validation') await validationCost();
  // BENCH_ONLY=replicas: three runeds on one PostgreSQL (propagation), the engines compared, migrate-store.
  else if (process.env.BENCH_ONLY === 'replicas') await replicasBench();
  else await everything();
} finally {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

async function replicasBench() {
  const { replicas } = await import('./replicas.mjs');
  await replicas({ record, round, median, load, stop, tmp, dirs, populate, startRunedWith: (dataDir, args, env) => startRuned(dataDir, 'warn', RUNED, { args, env }) });
}

async function everything() {
  const { startedRss, idleRss, loadedRss } = await authHotPath('info', true);
  await authHotPath('warn');
  await apiThroughput();
  const big = await scale();
  await searchLatency();
  await cliStart();
  await tui(big);
  await tuiInput();
  await replicasBench();
  record('memory', 'runed RSS 0.5 s after start (fresh data dir)', round(startedRss, 0), 'MB');
  record('memory', `runed RSS idle (fresh data dir, ${SETTLE_MS / 1000} s after start)`, round(idleRss, 0), 'MB', '<= 80', idleRss <= 80);
  record('memory', 'runed RSS after the auth load test', round(loadedRss, 0), 'MB');
  record('memory', 'runed RSS idle with 100,000 tokens', round(big.idleBig, 0), 'MB');
  record('memory', 'runed RSS after load with 100,000 tokens', round(big.busyBig, 0), 'MB');
}
results.seconds = Math.round((Date.now() - started) / 1000);

const widths = [8, 58, 22, 10, 6];
const line = (r) => r.map((c, i) => String(c).padEnd(widths[i])).join(' ').trimEnd();
console.log(line(['SECTION', 'FIGURE', 'VALUE', 'GOAL', '']));
for (const r of rows) console.log(line(r));
console.log(`\n${results.machine.cpus} cores, ${results.machine.model}, ${results.machine.memoryGiB} GiB, Node ${results.machine.node}; ${results.seconds}s`);
// A partial run (BENCH_ONLY) updates its own figures and keeps the others of the last full run.
const previous = process.env.BENCH_ONLY ? JSON.parse(readFileSync(join(ROOT, 'bench/results.json'), 'utf8')) : undefined;
const written = previous ? { ...previous, figures: { ...previous.figures, ...results.figures }, partial: { at: results.at, only: process.env.BENCH_ONLY } } : results;
writeFileSync(join(ROOT, 'bench/results.json'), JSON.stringify(written, null, 2) + '\n');
