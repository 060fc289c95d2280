import { AuditQuery, AuditRecord, Errors, List } from '../../core/schemas.js';
import { invalid, shown } from '../../core/errors.js';
import { parseDuration } from '../../core/duration.js';
import { requireAdmin, type App, type Ctx } from '../context.js';
import { readPage, readSearch } from '../paging.js';
import type { AuditFilter, Outcome } from '../store/audit.js';

const OUTCOMES: readonly Outcome[] = ['success', 'denied', 'error'];
const MAX_WAIT_MS = 30_000;
/** How often a waiting follower looks for new events: the store is the truth, on one host or many. */
const FOLLOW_POLL_MS = 200;

/** `since` is an ISO time or a duration back from now (`1h`, `7d`). */
function parseSince(text: string, now: number): number {
  const ago = parseDuration(text);
  if (ago !== undefined) return now - ago;
  const at = Date.parse(text);
  if (Number.isNaN(at)) throw invalid(`since "${shown(text)}" is neither a time (2026-01-31T12:00:00Z) nor a duration (1h, 7d)`, { field: 'since' });
  return at;
}

export function auditRoutes(app: App, ctx: Ctx, state: { closing: boolean }): void {
  const schema = { tags: ['audit'], summary: 'The audit trail, newest first', querystring: AuditQuery, response: { 200: List(AuditRecord), ...Errors } };
  app.get('/v1/audit', { schema }, async (req) => {
    const access = { verb: 'list', resource: 'audit' };
    requireAdmin(ctx, req, access);
    const q = req.query;
    const text = (k: keyof typeof q) => q[k] || undefined;
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
    if (q.after === undefined) return ctx.store.audit.list(filter, readPage(q, 1));

    // Following: events after an id, oldest first; an empty page waits a while for the next event.
    if (q.cursor) throw invalid('give after or cursor, not both', { field: 'cursor' });
    if (!Number.isSafeInteger(Number(q.after))) throw invalid('after must be the id of an event (a whole number)', { field: 'after' });
    const page = { ...readPage(q, 1), after: [q.after] };
    const waitMs = q.wait ? parseDuration(q.wait) : 0;
    if (waitMs === undefined || waitMs > MAX_WAIT_MS) throw invalid(`wait must be a duration of at most ${MAX_WAIT_MS / 1000}s, e.g. "10s"`, { field: 'wait' });
    let gone = false;
    req.raw.once('close', () => (gone = true));
    const until = Date.now() + waitMs;
    for (;;) {
      const found = await ctx.store.audit.list(filter, page, true);
      if (found.items.length > 0 || Date.now() >= until || gone || state.closing) return found;
      await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
    }
  });
}
