import { Type } from 'typebox';
import { conflict, forbidden } from '../../core/errors.js';
import { newId } from '../../core/tokenFormat.js';
import { toToken } from '../store/tokens.js';
import { CreatedToken, Errors } from '../../core/schemas.js';
import { audit, commit, isLocal, type App, type Ctx } from '../context.js';
import { issueToken } from '../issue.js';
import type { Store } from '../store/index.js';

export const BOOTSTRAPPED_KEY = 'bootstrapped';
/** Thrown inside the transaction to leave it without writing anything. */
const ALREADY = new Error('already bootstrapped');

/** POST /v1/bootstrap: the one unauthenticated call, loopback only, once (§5). */
export function bootstrapRoutes(app: App, ctx: Ctx): void {
  const schema = {
    tags: ['session'],
    summary: 'The one-time root token: once, from the daemon\'s host only, without a token',
    security: [],
    response: { 201: Type.Object({ token: CreatedToken.properties.token, secret: CreatedToken.properties.secret }), ...Errors },
  };
  app.post('/v1/bootstrap', { schema }, async (req, reply) => {
    if (!isLocal(req)) {
      audit(ctx, req, { action: 'bootstrap', resource: 'tokens', outcome: 'denied', message: 'bootstrap from a non-loopback peer' });
      throw forbidden('bootstrap is accepted only on the daemon\'s host (loopback), whatever the configuration');
    }
    const now = Date.now();
    const mintRoot = async (tx: Store) => {
      // Once per cluster: on PostgreSQL the bootstrap mark's row is taken under a transaction lock first.
      if (tx.engine.dialect === 'postgres') await tx.meta.lockKey(BOOTSTRAPPED_KEY);
      if (await tx.getMeta(BOOTSTRAPPED_KEY)) throw ALREADY;
      let root = await tx.subjects.getByName('root');
      if (!root) {
        root = { id: newId('usr'), name: 'root', type: 'user', email: null, namespace: null, permissions: null, description: '', derived_policies: '[]', created_at: now, updated_at: now };
        await tx.subjects.insert(root);
      } else if (root.type !== 'user') {
        throw conflict('a service account named "root" exists: delete it before bootstrapping');
      }
      await tx.subjects.attach(root.id, 'root');
      const minted = await issueToken(tx, ctx.serverKey, { subject: root, name: 'root', policies: [], ttlMs: null, description: 'bootstrap root token', kind: 'session', now });
      await tx.setMeta(BOOTSTRAPPED_KEY, new Date(now).toISOString());
      return minted;
    };
    let issued: Awaited<ReturnType<typeof mintRoot>> | undefined;
    try {
      issued = await commit(ctx, req, (i) => ({ action: 'bootstrap', resource: 'tokens', ref: i.row.id, outcome: 'success', message: 'root token issued' }), mintRoot);
    } catch (e) {
      if (e !== ALREADY) throw e;
    }
    if (!issued) {
      audit(ctx, req, { action: 'bootstrap', resource: 'tokens', outcome: 'denied', message: 'already bootstrapped' });
      throw conflict('already bootstrapped: log in with an existing token (rune login), or run "runed reset-bootstrap" on the host to recover a lost root token');
    }
    return reply.code(201).send({ token: toToken(issued.row, now), secret: issued.bearer });
  });
}
