-- The SQLite form of the PostgreSQL schema of the same version. Tables are
-- STRICT, so each column holds only its declared type. Ids are TEXT in
-- SQLite's default BINARY collation, which compares bytes, so cursor
-- pagination orders them as the "C" collation does on PostgreSQL. Times are
-- INTEGER Unix microseconds, the precision PostgreSQL keeps, so that they
-- order and compare exactly. Booleans are INTEGER 0 or 1, and JSON is TEXT.

-- Tenants are the customers of the company running Herald. The id is the
-- producer's own customer id.
CREATE TABLE tenants (
    id         TEXT    NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL DEFAULT '',
    metadata   TEXT    NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- Endpoints are the URLs of a tenant that receive webhooks. The current
-- signing secret lives on the row; secrets replaced by a rotation stay in
-- previous_secrets, a JSON array of {"key", "expires_at"} with expires_at in
-- Unix microseconds, until they expire, so delivery reads everything it
-- signs with in one row.
CREATE TABLE endpoints (
    id                TEXT    NOT NULL PRIMARY KEY,
    tenant_id         TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    url               TEXT    NOT NULL,
    description       TEXT    NOT NULL DEFAULT '',
    event_types       TEXT    NOT NULL DEFAULT '[]',
    headers           TEXT    NOT NULL DEFAULT '{}',
    disabled          INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    disabled_reason   TEXT    NOT NULL DEFAULT '',
    secret            TEXT    NOT NULL,
    secret_created_at INTEGER NOT NULL,
    previous_secrets  TEXT    NOT NULL DEFAULT '[]',
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
) STRICT;

CREATE INDEX endpoints_tenant_id_id_idx ON endpoints (tenant_id, id);

-- API keys are stored as the SHA-256 of the key, never the key itself.
CREATE TABLE api_keys (
    id         TEXT    NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    hash       BLOB    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
) STRICT;
