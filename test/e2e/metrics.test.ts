import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runed } from '../helpers/runed.js';

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;

describe('/metrics', () => {
  let runed: Runed;
  let text: string;
  beforeAll(async () => {
    runed = await Runed.start();
    const root = await runed.bootstrap();
    await runed.userWithToken(root, 'alice-metrics', ['readonly']);
    await runed.request('GET', '/v1/whoami', { token: root });
    await runed.request('GET', '/v1/whoami', { token: 'rune_bad' });
    await runed.request('GET', '/v1/users/nobody', { token: root });
    const res = await fetch(`${runed.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    text = await res.text();
  });
  afterAll(() => runed.cleanup());

  it('has a latency histogram by route template and status class', () => {
    expect(text).toContain('# TYPE rune_http_request_duration_seconds histogram');
    expect(text).toMatch(/rune_http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/v1\/whoami",status_class="2xx"\} \d+/);
    expect(text).toMatch(/rune_http_request_duration_seconds_count\{method="GET",route="\/v1\/users\/:name",status_class="4xx"\} 1/);
  });

  it('counts authentication failures by reason, tokens by status and the audit chain', () => {
    expect(text).toContain('rune_auth_failures_total{reason="malformed"} 1');
    expect(text).toContain('rune_tokens{status="active"} 2');
    expect(text).toMatch(/rune_audit_chain_length [1-9]\d*/);
  });

  it('has the process and Node.js runtime metrics', () => {
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) expect(text).toContain(`# TYPE ${name} `);
  });

  it('names no token, subject or raw URL in any label', () => {
    expect(text).not.toMatch(/tok_|alice|nobody|root"/);
  });

  it.skipIf(!promtool)('passes promtool check metrics', () => {
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.stdout + check.stderr).toBe('');
    expect(check.status).toBe(0);
  });
  if (!promtool) it('promtool check metrics: SKIPPED, promtool is not installed (apt-get install prometheus)', () => {});
});
