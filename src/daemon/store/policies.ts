import type { PolicyDocument, Rule } from '../../core/policy.js';
import type { Policy } from '../../core/wire.js';
import { columnList, type Sql } from './sql.js';
import { pageOf, type Page } from '../paging.js';

interface PolicyRow {
  name: string;
  description: string;
  rules: string;
  builtin: number;
  created_at: number;
  updated_at: number;
}

/** `source` is read on its own (sourceOf): a page of policies does not carry their texts. */
const COLUMNS = columnList<PolicyRow>({ name: true, description: true, rules: true, builtin: true, created_at: true, updated_at: true });

const PARSED_MAX_ENTRIES = 10_000;
const PARSED_MAX_BYTES = 32 * 1024 * 1024;

/**
 * Parsed rules by policy name, with the text they were parsed from: the auth hot path parses each
 * policy once, and a new version replaces the old one (a cache by text kept every version).
 * Shared by the store and its transaction views.
 */
export class RuleCache {
  private readonly parsed = new Map<string, { json: string; rules: Rule[] }>();
  private bytes = 0;

  parse(name: string, json: string): Rule[] {
    const cached = this.parsed.get(name);
    if (cached?.json === json) return cached.rules;
    const rules = JSON.parse(json) as Rule[];
    if (cached) this.bytes -= cached.json.length;
    // Bounded whatever the policies: past the bounds the cache starts over.
    if (this.parsed.size >= PARSED_MAX_ENTRIES || this.bytes + json.length > PARSED_MAX_BYTES) {
      this.parsed.clear();
      this.bytes = 0;
    }
    this.parsed.set(name, { json, rules });
    this.bytes += json.length;
    return rules;
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.parsed.size, bytes: this.bytes };
  }
}

export class Policies {
  constructor(
    private readonly sql: Sql,
    private readonly rules: RuleCache = new RuleCache(),
  ) {}

  /** Entries and bytes of text behind the parsed-rules cache (for tests of its bound). */
  get cacheSize(): { entries: number; bytes: number } {
    return this.rules.size;
  }

  private byName(name: string): Promise<PolicyRow | undefined> {
    return this.sql.get<PolicyRow>(`SELECT ${COLUMNS} FROM policies WHERE name = ?`, [name]);
  }

  async get(name: string): Promise<Policy | undefined> {
    const row = await this.byName(name);
    return row && this.toPolicy(row);
  }

  async exists(name: string): Promise<boolean> {
    return (await this.byName(name)) !== undefined;
  }

  /** The named policies' rules, for those that exist. */
  async rulesOf(names: string[]): Promise<{ name: string; rules: Rule[] }[]> {
    const out: { name: string; rules: Rule[] }[] = [];
    for (const name of names) {
      const row = await this.byName(name);
      if (row) out.push({ name, rules: this.rules.parse(name, row.rules) });
    }
    return out;
  }

  async rulesOfSubjectId(subjectId: string): Promise<{ name: string; rules: Rule[] }[]> {
    const rows = await this.sql.all<{ name: string; rules: string }>(
      'SELECT p.name, p.rules FROM subject_policies sp JOIN policies p ON p.name = sp.policy WHERE sp.subject_id = ? ORDER BY p.name',
      [subjectId],
    );
    return rows.map((r) => ({ name: r.name, rules: this.rules.parse(r.name, r.rules) }));
  }

  /** `source`: the YAML text it was written as, when it came as YAML (a JSON body has none). */
  async insert(doc: PolicyDocument, now: number, builtin = false, source: string | null = null): Promise<void> {
    await this.sql.run('INSERT INTO policies (name, description, rules, builtin, created_at, updated_at, source) VALUES (?, ?, ?, ?, ?, ?, ?)', [
      doc.name,
      doc.description,
      JSON.stringify(doc.rules),
      builtin ? 1 : 0,
      now,
      now,
      source,
    ]);
  }

  async replace(doc: PolicyDocument, now: number, source: string | null = null): Promise<void> {
    await this.sql.run('UPDATE policies SET description = ?, rules = ?, updated_at = ?, source = ? WHERE name = ?', [doc.description, JSON.stringify(doc.rules), now, source, doc.name]);
  }

  /** The YAML text the policy was last written as, if it came as YAML. */
  async sourceOf(name: string): Promise<string | undefined> {
    return (await this.sql.get<{ source: string | null }>('SELECT source FROM policies WHERE name = ?', [name]))?.source ?? undefined;
  }

  /** Writes a built-in exactly as the code defines it (seeded at every start). */
  async seedBuiltin(doc: PolicyDocument, now: number): Promise<void> {
    await this.sql.run(
      `INSERT INTO policies (name, description, rules, builtin, created_at, updated_at) VALUES (?, ?, ?, 1, ?, ?)
       ON CONFLICT (name) DO UPDATE SET description = excluded.description, rules = excluded.rules, builtin = 1,
         updated_at = CASE WHEN policies.rules = excluded.rules AND policies.description = excluded.description
                           THEN policies.updated_at ELSE excluded.updated_at END`,
      [doc.name, doc.description, JSON.stringify(doc.rules), now, now],
    );
  }

  async delete(name: string): Promise<void> {
    await this.sql.run('DELETE FROM policies WHERE name = ?', [name]);
  }

  async list(page: Page) {
    const rows = page.after
      ? await this.sql.all<PolicyRow>(`SELECT ${COLUMNS} FROM policies WHERE name > ? ORDER BY name LIMIT ?`, [page.after[0]!, page.limit + 1])
      : await this.sql.all<PolicyRow>(`SELECT ${COLUMNS} FROM policies ORDER BY name LIMIT ?`, [page.limit + 1]);
    return pageOf(rows, page.limit, (r) => [r.name], (r) => this.toPolicy(r));
  }

  private toPolicy(row: PolicyRow): Policy {
    return {
      name: row.name,
      description: row.description,
      rules: this.rules.parse(row.name, row.rules),
      builtin: row.builtin === 1,
      createdAt: new Date(row.created_at).toISOString(),
      updatedAt: new Date(row.updated_at).toISOString(),
    };
  }
}
