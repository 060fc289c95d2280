import type { FastifyInstance } from 'fastify';
import type { Ctx } from '../context.js';

/** Unauthenticated probes: alive, and ready (the store answers and we are not shutting down). */
export function healthRoutes(app: FastifyInstance, ctx: Ctx, state: { closing: boolean }): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    let ok = !state.closing;
    try {
      ok = ok && ctx.store.ping();
    } catch {
      ok = false;
    }
    return ok ? { status: 'ready' } : reply.code(503).send({ error: { code: 'unavailable', message: state.closing ? 'shutting down' : 'store not available' } });
  });
}
