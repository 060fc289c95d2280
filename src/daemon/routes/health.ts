import { Type } from 'typebox';
import { ErrorBody } from '../../core/schemas.js';
import type { App, Ctx } from '../context.js';

const Status = Type.Object({ status: Type.String() });
const Ready = Type.Object({ status: Type.String(), store: Type.Optional(Type.String({ description: 'the store\'s engine: sqlite or postgres' })) });

/** Unauthenticated probes: alive, and ready (the store answers and we are not shutting down). */
export function healthRoutes(app: App, ctx: Ctx, state: { closing: boolean }): void {
  const probe = { tags: ['health'], security: [] };
  app.get('/healthz', { schema: { ...probe, summary: 'Alive', response: { 200: Status } } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { ...probe, summary: 'Ready: the store (its database) answers and runed is not shutting down', response: { 200: Ready, 503: ErrorBody } } }, async (_req, reply) => {
    const engine = ctx.store.engine.dialect;
    if (state.closing) return reply.code(503).send({ error: { code: 'unavailable', message: 'shutting down' } });
    let ok = ctx.store.available;
    try {
      ok = ok && (await ctx.store.ping());
    } catch {
      ok = false;
    }
    const unreachable = engine === 'postgres' ? 'the database (postgres) is unreachable' : 'the store (sqlite) does not answer';
    return ok ? { status: 'ready', store: engine } : reply.code(503).send({ error: { code: 'unavailable', message: unreachable } });
  });
}
