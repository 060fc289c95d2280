import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNE_BIN } from '../helpers/rune.js';
import { eventually, Runed } from '../helpers/runed.js';

/** Starts `rune admin audit --follow …` and collects the lines it prints. */
function follow(runed: Runed, token: string, args: string[]) {
  const proc = spawn(process.execPath, [RUNE_BIN, 'admin', 'audit', '--follow', '--server', runed.url, ...args], {
    env: { PATH: process.env.PATH, HOME: '/nonexistent', RUNE_TOKEN: token },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const lines = () => out.split('\n').filter(Boolean);
  const until = (ok: (lines: string[]) => boolean) => eventually(() => `rune to print the expected lines (so far:\n${out}\nstderr:\n${err})`, () => (ok(lines()) ? lines() : undefined));
  return { proc, lines, until, stop: () => proc.kill('SIGINT') };
}

describe('following the audit trail', () => {
  let runed: Runed;
  let root: string;
  beforeAll(async () => {
    runed = await Runed.start();
    root = await runed.bootstrap();
  });
  afterAll(() => runed.cleanup());

  it('GET /v1/audit?after=ID&wait= answers as soon as an event after ID is written, oldest first', async () => {
    const newest = (await runed.request('GET', '/v1/audit?limit=1', { token: root })).body.items[0].id as number;
    const waiting = runed.request('GET', `/v1/audit?after=${newest}&wait=20s`, { token: root });
    await runed.request('POST', '/v1/namespaces', { token: root, body: { name: 'waited-for' } });
    await runed.request('POST', '/v1/namespaces', { token: root, body: { name: 'and-another' } });
    const page = await waiting;
    expect(page.status).toBe(200);
    expect(page.body.items[0]).toMatchObject({ id: newest + 1, action: 'create', ref: 'waited-for' });
    const later = await runed.request('GET', `/v1/audit?after=${newest}`, { token: root });
    expect(later.body.items.map((e: { ref: string }) => e.ref)).toEqual(['waited-for', 'and-another']);
    expect((await runed.request('GET', `/v1/audit?after=${newest}&wait=5m`, { token: root })).status).toBe(400);
    expect((await runed.request('GET', `/v1/audit?after=x`, { token: root })).status).toBe(400);
  });

  it('rune admin audit --follow -o jsonl streams new events as JSON lines and resumes from an id', async () => {
    const f = follow(runed, root, ['-o', 'jsonl']);
    try {
      await runed.request('POST', '/v1/namespaces', { token: root, body: { name: 'streamed-one' } });
      await runed.request('POST', '/v1/namespaces', { token: root, body: { name: 'streamed-two' } });
      const lines = await f.until((l) => l.some((x) => x.includes('streamed-two')));
      const events = lines.map((l) => JSON.parse(l) as { id: number; ref?: string });
      const one = events.find((e) => e.ref === 'streamed-one')!;
      expect(events.map((e) => e.id)).toEqual([...events.map((e) => e.id)].sort((a, b) => a - b));
      f.stop();

      const resumed = follow(runed, root, ['-o', 'jsonl', '--from-id', String(one.id)]);
      try {
        const again = await resumed.until((l) => l.some((x) => x.includes('streamed-two')));
        expect(JSON.parse(again[0]!).ref).toBe('streamed-two');
        expect(again.some((x) => x.includes('streamed-one'))).toBe(false);
      } finally {
        resumed.stop();
      }
    } finally {
      f.stop();
    }
  });
});
