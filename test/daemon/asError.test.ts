import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { asError } from '../../src/daemon/server.js';

describe('asError (what the authentication hook hands fastify)', () => {
  it('turns every thrown or rejected value, falsy ones too, into an Error and keeps an Error as it is', () => {
    for (const value of [undefined, null, 0, '', false, 'text', { code: 'x' }]) {
      const error = asError(value);
      expect(error).toBeInstanceOf(Error);
      expect(error.message).toContain(String(value));
    }
    const original = new TypeError('boom');
    expect(asError(original)).toBe(original);
  });

  it('refuses the request when a hook fails with undefined, where done(undefined) would let it through', async () => {
    const app = Fastify();
    app.addHook('onRequest', (req, _reply, done) => {
      const failure = Promise.reject(undefined);
      if (req.url === '/raw') failure.then(() => done(), done);
      else failure.then(() => done(), (e: unknown) => done(asError(e)));
    });
    app.get('/raw', async () => ({ handler: 'reached' }));
    app.get('/guarded', async () => ({ handler: 'reached' }));
    const raw = await app.inject({ method: 'GET', url: '/raw' });
    const guarded = await app.inject({ method: 'GET', url: '/guarded' });
    await app.close();
    // The hazard asError exists for: fastify takes done(undefined) as success.
    expect(raw.statusCode).toBe(200);
    expect(guarded.statusCode).toBe(500);
    expect(guarded.body).not.toContain('reached');
  });
});
