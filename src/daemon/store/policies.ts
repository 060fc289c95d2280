import type { PolicyDocument, Rule } from '../../core/policy.js';
import type { Policy } from '../../core/wire.js';
import type { Db } from './db.js';
import { pageOf, type Page } from '../paging.js';

interface PolicyRow {
  name: string;
  description: string;
  rules: string;
  builtin: number;
  created_at: number;
  updated_at: number;
}

const PARSED_MAX_ENTRIES = 10_000;
const PARSED_MAX_BYTES = 32 * 1024 * 1024;

export class Policies {
  private readonly byName;
  private readonly rulesOfSubject;
  /**
   * Parsed rules by policy name, with the text they were parsed from: the auth hot path parses each
   * policy once, and a new version replaces the old one (a cache by text kept every version).
   */
  private readonly parsed = new Map<string, { json: string; rules: Rule[] }>();
  private parsedBytes = 0;

  constructor(private readonly db: Db) {
    this.byName = db.prepare<[string], PolicyRow>('SELECT * FROM policies WHERE name = ?');
    this.rulesOfSubject = db.prepare<[string], { name: string; rules: string }>(
      'SELECT p.name, p.rules FROM subject_policies sp JOIN policies p ON p.name = sp.policy WHERE sp.subject_id = ? ORDER BY p.name',
    );
  }

  private parse(name: string, json: string): Rule[] {
    const cached = this.parsed.get(name);
    if (cached?.json === json) return cached.rules;
    const rules = JSON.parse(json) as Rule[];
    if (cached) this.parsedBytes -= cached.json.length;
    // Bounded whatever the policies: past the bounds the cache starts over.
    if (this.parsed.size >= PARSED_MAX_ENTRIES || this.parsedBytes + json.length > PARSED_MAX_BYTES) {
      this.parsed.clear();
      this.parsedBytes = 0;
    }
    this.parsed.set(name, { json, rules });
    this.parsedBytes += json.length;
    return rules;
  }

  /** Entries and bytes of text behind the parsed-rules cache (for tests of its bound). */
  get cacheSize(): { entries: number; bytes: number } {
    return { entries: this.parsed.size, bytes: this.parsedBytes };
  }

  get(name: string): Policy | undefined {
    const row = this.byName.get(name);
    return row && this.toPolicy(row);
  }

  exists(name: string): boolean {
    return this.byName.get(name) !== undefined;
  }

  /** The named policies' rules, for those that exist. */
  rulesOf(names: string[]): { name: string; rules: Rule[] }[] {
    const out: { name: string; rules: Rule[] }[] = [];
    for (const name of names) {
      const row = this.byName.get(name);
      if (row) out.push({ name, rules: this.parse(name, row.rules) });
    }
    return out;
  }

  rulesOfSubjectId(subjectId: string): { name: string; rules: Rule[] }[] {
    return this.rulesOfSubject.all(subjectId).map((r) => ({ name: r.name, rules: this.parse(r.name, r.rules) }));
  }

  /** `source`: the YAML text it was written as, when it came as YAML (a JSON body has none). */
  insert(doc: PolicyDocument, now: number, builtin = false, source: string | null = null): void {
    this.db
      .prepare('INSERT INTO policies (name, description, rules, builtin, created_at, updated_at, source) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(doc.name, doc.description, JSON.stringify(doc.rules), builtin ? 1 : 0, now, now, source);
  }

  replace(doc: PolicyDocument, now: number, source: string | null = null): void {
    this.db
      .prepare('UPDATE policies SET description = ?, rules = ?, updated_at = ?, source = ? WHERE name = ?')
      .run(doc.description, JSON.stringify(doc.rules), now, source, doc.name);
  }

  /** The YAML text the policy was last written as, if it came as YAML. */
  sourceOf(name: string): string | undefined {
    return this.db.prepare<[string], { source: string | null }>('SELECT source FROM policies WHERE name = ?').get(name)?.source ?? undefined;
  }

  /** Writes a built-in exactly as the code defines it (seeded at every start). */
  seedBuiltin(doc: PolicyDocument, now: number): void {
    this.db
      .prepare(
        `INSERT INTO policies (name, description, rules, builtin, created_at, updated_at) VALUES (?, ?, ?, 1, ?, ?)
         ON CONFLICT (name) DO UPDATE SET description = excluded.description, rules = excluded.rules, builtin = 1,
           updated_at = CASE WHEN policies.rules = excluded.rules AND policies.description = excluded.description
                             THEN policies.updated_at ELSE excluded.updated_at END`,
      )
      .run(doc.name, doc.description, JSON.stringify(doc.rules), now, now);
  }

  delete(name: string): void {
    this.db.prepare('DELETE FROM policies WHERE name = ?').run(name);
  }

  list(page: Page) {
    const rows = page.after
      ? this.db.prepare<[string, number], PolicyRow>('SELECT * FROM policies WHERE name > ? ORDER BY name LIMIT ?').all(page.after[0]!, page.limit + 1)
      : this.db.prepare<[number], PolicyRow>('SELECT * FROM policies ORDER BY name LIMIT ?').all(page.limit + 1);
    return pageOf(rows, page.limit, (r) => [r.name], (r) => this.toPolicy(r));
  }

  private toPolicy(row: PolicyRow): Policy {
    return {
      name: row.name,
      description: row.description,
      rules: this.parse(row.name, row.rules),
      builtin: row.builtin === 1,
      createdAt: new Date(row.created_at).toISOString(),
      updatedAt: new Date(row.updated_at).toISOString(),
    };
  }
}
