import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';

export interface IssuerKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/**
 * A real OIDC issuer on loopback, as a CI platform runs one: the discovery document and the JWKS
 * over HTTP, keys made here with jose, and JWTs signed with them. It counts what runed fetches.
 */
export class TestIssuer {
  url = '';
  /** Paths requested, in order. */
  readonly requests: string[] = [];
  private published: IssuerKey[] = [];

  private constructor(private readonly server: Server) {}

  static async start(): Promise<TestIssuer> {
    let issuer: TestIssuer;
    const server = createServer((req, res) => {
      issuer.requests.push(req.url ?? '');
      if (req.url === '/.well-known/openid-configuration') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ issuer: issuer.url, jwks_uri: `${issuer.url}/jwks`, id_token_signing_alg_values_supported: ['RS256', 'ES256'] }));
      } else if (req.url === '/jwks') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ keys: issuer.published.map((k) => k.publicJwk) }));
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    issuer = new TestIssuer(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return issuer;
  }

  /** A new key pair; published in the JWKS unless `publish` is false. */
  async newKey(alg: 'RS256' | 'ES256', kid = `${alg.toLowerCase()}-${randomUUID().slice(0, 8)}`, publish = true): Promise<IssuerKey> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
    const key = { kid, alg, privateKey, publicJwk };
    if (publish) this.published.push(key);
    return key;
  }

  /** Key rotation: only `keys` are published from now on. */
  publishOnly(...keys: IssuerKey[]): void {
    this.published = [...keys];
  }

  count(path: string): number {
    return this.requests.filter((p) => p === path).length;
  }

  /** A JWT like a CI job's ID token: this issuer, five minutes of life, a fresh jti, then `claims` over that. */
  async sign(key: IssuerKey, claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const payload: JWTPayload = { iss: this.url, iat: now, nbf: now - 5, exp: now + 300, jti: randomUUID(), ...claims };
    for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
    return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header }).sign(key.privateKey);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
