// The storage interface: repositories are written once over Sql; each engine (SQLite, PostgreSQL) implements Engine.
export type Dialect = 'sqlite' | 'postgres';
export type Params = readonly unknown[] | Record<string, unknown>;
/** Runs statements; SQL text uses `?` (positional) or `@name` (named) placeholders, never `$1`. */
export interface Sql {
  readonly dialect: Dialect;
  get<T>(text: string, params?: Params): Promise<T | undefined>;
  all<T>(text: string, params?: Params): Promise<T[]>;
  run(text: string, params?: Params): Promise<{ changes: number }>;
}
export interface Engine extends Sql {
  /** One transaction: fn's statements (through `tx`) commit together or not at all. */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
