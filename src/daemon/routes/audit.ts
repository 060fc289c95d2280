import type { FastifyInstance } from 'fastify';
import { invalid } from '../../core/errors.js';
import { parseDuration } from '../../core/duration.js';
import { requireAdmin, type Ctx } from '../context.js';
import { readPage, readSearch } from '../paging.js';
import type { AuditFilter, Outcome } from '../store/audit.js';

const OUTCOMES: readonly Outcome[] = ['success', 'denied', 'error'];

/** `since` is an ISO time or a duration back from now (`1h`, `7d`). */
function parseSince(text: string, now: number): number {
  const ago = parseDuration(text);
  if (ago !== undefined) return now - ago;
  const at = Date.parse(text);
  if (Number.isNaN(at)) throw invalid(`since "${text}" is neither a time (2026-01-31T12:00:00Z) nor a duration (1h, 7d)`, { field: 'since' });
  return at;
}

export function auditRoutes(app: FastifyInstance, ctx: Ctx): void {
  app.get('/v1/audit', async (req) => {
    const access = { verb: 'list', resource: 'audit' };
    requireAdmin(ctx, req, access);
    const q = req.query as Record<string, unknown>;
    const text = (k: string) => (q[k] === undefined || q[k] === '' ? undefined : String(q[k]));
    const filter: AuditFilter = {};
    const actor = text('actor');
    const action = text('action');
    const resource = text('resource');
    const outcome = text('outcome');
    const since = text('since');
    if (actor) filter.actor = actor;
    if (action) filter.action = action;
    if (resource) filter.resource = resource;
    if (outcome) {
      if (!OUTCOMES.includes(outcome as Outcome)) throw invalid(`outcome must be one of ${OUTCOMES.join(', ')}`, { field: 'outcome' });
      filter.outcome = outcome as Outcome;
    }
    if (since) filter.since = parseSince(since, Date.now());
    const search = readSearch(q);
    if (search) filter.search = search;
    return ctx.store.audit.list(filter, readPage(q, 1));
  });
}
