import type { SubjectType } from '../../core/wire.js';
import type { Sql } from './sql.js';
import { STATUS_SQL } from './tokens.js';

export interface SubjectPolicies {
  id: string;
  name: string;
  type: SubjectType;
  /** Attached policy names, in name order (the order explain() decides in). */
  policies: string[];
}

export interface LiveTokenGroup {
  subjectId: string;
  /** The token's narrowing, as stored: a JSON list of policy names ("[]": none). */
  policies: string;
  count: number;
}

/**
 * Who reaches what: the whole subject–policy graph and the live tokens, grouped, for "who can?"
 * and a policy's impact. Reads only; answers grow with subjects and distinct narrowings, not tokens.
 */
export class Reach {
  constructor(private readonly sql: Sql) {}

  /** Every subject with its policies, in name order. */
  async subjects(): Promise<SubjectPolicies[]> {
    const rows = await this.sql.all<{ id: string; name: string; type: SubjectType; policy: string | null }>(
      'SELECT s.id, s.name, s.type, sp.policy FROM subjects s LEFT JOIN subject_policies sp ON sp.subject_id = s.id ORDER BY s.name, sp.policy',
    );
    const out: SubjectPolicies[] = [];
    for (const r of rows) {
      let last = out.at(-1);
      if (last?.id !== r.id) out.push((last = { id: r.id, name: r.name, type: r.type, policies: [] }));
      if (r.policy !== null) last.policies.push(r.policy);
    }
    return out;
  }

  /** Live (active) tokens counted by subject and narrowing. */
  async liveTokenGroups(now: number): Promise<LiveTokenGroup[]> {
    const rows = await this.sql.all<{ subject_id: string; policies: string; n: number }>(
      `SELECT subject_id, policies, COUNT(*) AS n FROM tokens WHERE ${STATUS_SQL.active} GROUP BY subject_id, policies ORDER BY subject_id, policies`,
      { now },
    );
    return rows.map((r) => ({ subjectId: r.subject_id, policies: r.policies, count: Number(r.n) }));
  }
}
