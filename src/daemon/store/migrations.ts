/**
 * Versioned schema migrations of the SQLite engine; append only. Times are integer milliseconds
 * since the epoch. A PostgreSQL list sits beside it with the same version numbers (same logical schema).
 */
export const SQLITE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

  -- Users and service accounts share one name space (§2), so they share one table.
  CREATE TABLE subjects (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    type        TEXT NOT NULL CHECK (type IN ('user', 'service')),
    email       TEXT,
    namespace   TEXT,
    permissions TEXT,
    description TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
  );
  CREATE INDEX subjects_by_type_name ON subjects (type, name);

  CREATE TABLE policies (
    name        TEXT PRIMARY KEY,
    description TEXT NOT NULL DEFAULT '',
    rules       TEXT NOT NULL,
    builtin     INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
  );

  CREATE TABLE subject_policies (
    subject_id TEXT NOT NULL REFERENCES subjects (id) ON DELETE CASCADE,
    policy     TEXT NOT NULL REFERENCES policies (name) ON DELETE CASCADE,
    PRIMARY KEY (subject_id, policy)
  );
  CREATE INDEX subject_policies_by_policy ON subject_policies (policy);

  -- Tokens outlive their subject (revoked, kept for audit), so no foreign key to subjects.
  CREATE TABLE tokens (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    subject_id   TEXT NOT NULL,
    subject_name TEXT NOT NULL,
    subject_type TEXT NOT NULL,
    policies     TEXT NOT NULL DEFAULT '[]',
    description  TEXT NOT NULL DEFAULT '',
    kind         TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    enabled      INTEGER NOT NULL DEFAULT 1,
    revoked_at   INTEGER,
    last_used_at INTEGER
  );
  CREATE INDEX tokens_by_created ON tokens (created_at, id);
  CREATE INDEX tokens_by_subject ON tokens (subject_id, created_at, id);
  CREATE INDEX tokens_by_expiry ON tokens (expires_at) WHERE expires_at IS NOT NULL;
  CREATE INDEX tokens_by_revoked ON tokens (revoked_at) WHERE revoked_at IS NOT NULL;

  CREATE TABLE namespaces (name TEXT PRIMARY KEY, created_at INTEGER NOT NULL);
  `,
  `
  -- Policies created for a service account (<service>-<perm>), removed with it.
  ALTER TABLE subjects ADD COLUMN derived_policies TEXT NOT NULL DEFAULT '[]';

  -- Hash-chained: each event carries the previous event's hash, so an edit or a deletion shows.
  CREATE TABLE audit_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    time        INTEGER NOT NULL,
    actor_name  TEXT,
    actor_type  TEXT,
    token_id    TEXT,
    action      TEXT NOT NULL,
    resource    TEXT NOT NULL,
    ref         TEXT,
    namespace   TEXT,
    outcome     TEXT NOT NULL CHECK (outcome IN ('success', 'denied', 'error')),
    message     TEXT NOT NULL DEFAULT '',
    remote_addr TEXT,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
  );
  CREATE INDEX audit_by_time ON audit_events (time);

  -- Registry credentials: the password is sealed with a per-secret data key, itself wrapped by the KEK.
  CREATE TABLE registries (
    name        TEXT PRIMARY KEY,
    server      TEXT NOT NULL,
    type        TEXT NOT NULL CHECK (type IN ('docker', 'ecr')),
    username    TEXT,
    region      TEXT,
    sealed      TEXT,
    wrapped_key TEXT,
    kek_id      TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
  );
  `,
  `
  -- Who disabled a token: its owner may re-enable only what it disabled itself.
  ALTER TABLE tokens ADD COLUMN disabled_by TEXT;
  `,
  `
  -- OIDC trusts: an issuer, an audience and claim values bound to a service account; gone with it.
  CREATE TABLE trusts (
    name        TEXT PRIMARY KEY,
    issuer      TEXT NOT NULL,
    audience    TEXT NOT NULL,
    claims      TEXT NOT NULL,
    subject_id  TEXT NOT NULL REFERENCES subjects (id) ON DELETE CASCADE,
    ttl_ms      INTEGER NOT NULL,
    allow_glob  INTEGER NOT NULL DEFAULT 0,
    description TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
  );
  CREATE INDEX trusts_by_subject ON trusts (subject_id, name);

  -- Exchanged OIDC tokens (a hash of issuer + jti, or of the whole JWT), kept until they expire: each is accepted once.
  CREATE TABLE oidc_seen (
    key        TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX oidc_seen_by_expiry ON oidc_seen (expires_at);
  `,
  `
  -- Search (?search=) and sort (?sort=) of the token, user and service-account lists. A trigram
  -- index finds a rare substring without reading every token; it is keyed by the tokens rowid
  -- (stable: tokens are never VACUUMed into new rowids, and rows are only inserted and deleted).
  CREATE VIRTUAL TABLE tokens_search USING fts5(text, tokenize = 'trigram');
  INSERT INTO tokens_search (rowid, text)
    SELECT rowid, name || char(10) || subject_name || char(10) || description || char(10) || id FROM tokens;
  CREATE TRIGGER tokens_search_insert AFTER INSERT ON tokens BEGIN
    INSERT INTO tokens_search (rowid, text) VALUES (new.rowid, new.name || char(10) || new.subject_name || char(10) || new.description || char(10) || new.id);
  END;
  CREATE TRIGGER tokens_search_update AFTER UPDATE OF name, subject_name, description ON tokens BEGIN
    DELETE FROM tokens_search WHERE rowid = old.rowid;
    INSERT INTO tokens_search (rowid, text) VALUES (new.rowid, new.name || char(10) || new.subject_name || char(10) || new.description || char(10) || new.id);
  END;
  CREATE TRIGGER tokens_search_delete AFTER DELETE ON tokens BEGIN
    DELETE FROM tokens_search WHERE rowid = old.rowid;
  END;
  CREATE INDEX tokens_by_name ON tokens (name, id);
  CREATE INDEX tokens_by_subject_name ON tokens (subject_name, id);
  CREATE INDEX tokens_by_expires_key ON tokens (COALESCE(expires_at, 9007199254740991), id);
  CREATE INDEX tokens_by_last_used ON tokens (COALESCE(last_used_at, 0), id);
  CREATE INDEX subjects_by_type_created ON subjects (type, created_at, id);

  -- The YAML text a policy was last written with (comments, quoting, order), for editors to reopen.
  ALTER TABLE policies ADD COLUMN source TEXT;
  `,
  `
  -- Day-2 token hygiene: which token minted a token (the created-by selector), and the secret a
  -- rotation replaced, honoured (and audited as such) until prev_secret_until.
  ALTER TABLE tokens ADD COLUMN created_by TEXT;
  ALTER TABLE tokens ADD COLUMN prev_secret_hash TEXT;
  ALTER TABLE tokens ADD COLUMN prev_secret_until INTEGER;
  CREATE INDEX tokens_by_creator ON tokens (created_by) WHERE created_by IS NOT NULL;
  `,
  `
  -- The cluster's change counter. Only PostgreSQL replicas move it (one writer here needs none);
  -- it exists in both so that the two schemas stay the same version for version.
  CREATE TABLE rune_changes (id INTEGER PRIMARY KEY CHECK (id = 1), counter INTEGER NOT NULL, changed_at INTEGER NOT NULL);
  INSERT INTO rune_changes (id, counter, changed_at) VALUES (1, 0, 0);
  `,
  `
  -- An expiry past the last date JavaScript can hold (8.64e15 ms, the year 275760) came from a TTL
  -- an older runed did not cap; past 2^53 no client can even read the number. It becomes that date.
  UPDATE tokens SET expires_at = 8640000000000000 WHERE expires_at > 8640000000000000;
  `,
];

/** The SQLite list under its former name. */
export const MIGRATIONS = SQLITE_MIGRATIONS;
