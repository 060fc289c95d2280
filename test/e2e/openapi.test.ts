import { Validator } from '@seriousme/openapi-schema-validator';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inProcessDaemon } from '../helpers/inProcess.js';
import { ROOT, Runed } from '../helpers/runed.js';

describe('the API contract', () => {
  let runed: Runed;
  let document: Record<string, any>;
  beforeAll(async () => {
    runed = await Runed.start();
    const res = await fetch(`${runed.url}/openapi.json`);
    expect(res.status).toBe(200);
    document = (await res.json()) as Record<string, any>;
  });
  afterAll(() => runed.cleanup());

  it('GET /openapi.json needs no token and is the checked-in docs/openapi.json (npm run openapi rewrites it)', () => {
    const checkedIn = JSON.parse(readFileSync(join(ROOT, 'docs', 'openapi.json'), 'utf8'));
    expect(document).toEqual(checkedIn);
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    expect(document.openapi).toBe('3.1.0');
    const result = await new Validator().validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('describes every /v1 route with its body, answer and errors', () => {
    const operations = Object.entries(document.paths as Record<string, Record<string, any>>).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })));
    expect(operations.length).toBeGreaterThanOrEqual(35);
    for (const { path, method, op } of operations) {
      expect(op.summary, `${method} ${path}`).toBeTruthy();
      expect(Object.keys(op.responses), `${method} ${path}`).toEqual(expect.arrayContaining([expect.stringMatching(/^2\d\d$/)]));
      if (path.startsWith('/v1/')) expect(Object.keys(op.responses), `${method} ${path}`).toContain('4XX');
      if (['post', 'put', 'patch'].includes(method) && path !== '/v1/bootstrap' && !path.endsWith('/policies/{policy}')) expect(op.requestBody, `${method} ${path}`).toBeTruthy();
    }
    expect(document.paths['/v1/tokens'].post.requestBody.content['application/json'].schema.additionalProperties).toBe(false);
  });
});

describe('answers are an allow-list', () => {
  it('a field that is not in the response schema never leaves the daemon, even if a handler returns it', async () => {
    const daemon = await inProcessDaemon();
    try {
      const boot = await daemon.inject('POST', '/v1/bootstrap');
      const list = daemon.ctx.store.tokens.list.bind(daemon.ctx.store.tokens);
      daemon.ctx.store.tokens.list = async (...args) => {
        const page = await list(...args);
        return { ...page, items: page.items.map((t) => ({ ...t, secret_hash: 'v1$leak', secret: 'rune_tok_leak' })) };
      };
      const res = await daemon.inject('GET', '/v1/tokens', { token: boot.body.secret });
      expect(res.status).toBe(200);
      expect(res.body.items).toHaveLength(1);
      expect(JSON.stringify(res.body)).not.toMatch(/leak|secret/);
      expect(res.body.items[0].id).toBe(boot.body.token.id);
    } finally {
      await daemon.close();
    }
  });
});
