import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Runed } from '../helpers/runed.js';

let runed: Runed | undefined;
afterEach(async () => {
  await runed?.cleanup();
  runed = undefined;
});

function selfSignedCert() {
  const dir = mkdtempSync(join(tmpdir(), 'runed-tls-'));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  return { key, cert };
}

function httpsGet(url: string, ca: Buffer, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('TLS', () => {
  it('serves HTTPS with the configured certificate and key', async () => {
    const { key, cert } = selfSignedCert();
    runed = await Runed.start(['--tls-cert-file', cert, '--tls-key-file', key]);
    expect(runed.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const ca = readFileSync(cert);
    expect((await httpsGet(`${runed.url}/healthz`, ca)).status).toBe(200);
    const boot = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpsRequest(`${runed!.url}/v1/bootstrap`, { method: 'POST', ca }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(boot.status).toBe(201);
    const me = await httpsGet(`${runed.url}/v1/whoami`, ca, JSON.parse(boot.body).secret);
    expect(JSON.parse(me.body).subject.name).toBe('root');
    // A client that does not trust the certificate cannot talk to it.
    await expect(httpsGet(`${runed.url}/healthz`, Buffer.from(''))).rejects.toThrow();
  });

  it('a missing certificate file is a clear startup error', async () => {
    const { key } = selfSignedCert();
    await expect(Runed.start(['--tls-cert-file', '/nonexistent/cert.pem', '--tls-key-file', key])).rejects.toThrow(/cert\.pem/);
  });
});

describe('CORS', () => {
  it('is off by default: a preflight gets no CORS headers', async () => {
    runed = await Runed.start();
    const res = await fetch(`${runed.url}/v1/users`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers a preflight from a listed origin, and not from another', async () => {
    runed = await Runed.start(['--set', 'cors.allowedOrigins=https://app.example']);
    const ok = await fetch(`${runed.url}/v1/users`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' } });
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(ok.headers.get('access-control-allow-headers')).toContain('Authorization');
    const other = await fetch(`${runed.url}/v1/users`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const simple = await fetch(`${runed.url}/healthz`, { headers: { origin: 'https://app.example' } });
    expect(simple.headers.get('access-control-allow-origin')).toBe('https://app.example');
  });
});

describe('metrics', () => {
  it('/metrics counts requests by route and status, auth failures, and tokens by status', async () => {
    runed = await Runed.start();
    const root = await runed.bootstrap();
    await runed.request('GET', '/v1/users/alice', { token: root });
    await runed.request('GET', '/v1/whoami', { token: 'rune_bad' });
    const t = await runed.request('POST', '/v1/tokens', { token: root, body: { name: 'x' } });
    await runed.request('DELETE', `/v1/tokens/${t.body.token.id}`, { token: root });
    const res = await fetch(`${runed.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toContain('rune_http_requests_total{method="GET",route="/v1/users/:name",status="404"} 1');
    expect(text).toContain('rune_auth_failures_total{reason="malformed"} 1');
    expect(text).toContain('rune_tokens{status="active"} 1');
    expect(text).toContain('rune_tokens{status="revoked"} 1');
    expect(text).not.toContain('alice');
  });
});
