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
/**
 * How a replica learns of other replicas' writes (PostgreSQL: a change counter row, NOTIFY and a
 * poll). SQLite has a single writer process and needs none.
 */
export interface ChangeSource {
  /** Moves whenever another replica may have written; caches add it to the local generation. */
  readonly generation: number;
  /** False while changes elsewhere could go unseen: caches must not answer. */
  readonly trusted: boolean;
  /** False while the database is known to be out of reach: authenticated requests get 503 at once. */
  readonly reachable: boolean;
  /** Inside a write transaction, last: moves the shared counter and tells the others at commit. */
  record(tx: Sql): Promise<void>;
  /** After this replica's own commit. */
  localChange(): void;
  /** Stops listening (the engine closes). */
  stop(): Promise<void>;
}

export interface Engine extends Sql {
  /** Set for engines shared by several replicas. */
  changes?: ChangeSource;
  /** One transaction: fn's statements (through `tx`) commit together or not at all. */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * The column list of a row type, every field of it and nothing else (the compiler checks both
 * ways), for a SELECT that names its columns: `SELECT *` on PostgreSQL fails with "cached plan
 * must not change result type" once a newer replica's migration adds a column, until restart.
 */
export const columnList = <Row>(names: { [K in keyof Row]-?: true }, table?: string): string =>
  Object.keys(names)
    .map((name) => (table ? `${table}.${name}` : name))
    .join(', ');
