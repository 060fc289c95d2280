import { Type } from 'typebox';
import { ErrorBody } from '../../core/schemas.js';
import type { App, Ctx } from '../context.js';

const Status = Type.Object({ status: Type.String() });

/** Unauthenticated probes: alive, and ready (the store answers and we are not shutting down). */
export function healthRoutes(app: App, ctx: Ctx, state: { closing: boolean }): void {
  const probe = { tags: ['health'], security: [] };
  app.get('/healthz', { schema: { ...probe, summary: 'Alive', response: { 200: Status } } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { ...probe, summary: 'Ready: the store answers and runed is not shutting down', response: { 200: Status, 503: ErrorBody } } }, async (_req, reply) => {
    let ok = !state.closing;
    try {
      ok = ok && (await ctx.store.ping());
    } catch {
      ok = false;
    }
    return ok ? { status: 'ready' } : reply.code(503).send({ error: { code: 'unavailable', message: state.closing ? 'shutting down' : 'store not available' } });
  });
}
