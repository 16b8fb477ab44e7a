-- Tenants are the customers of the company running Herald. The id is the
-- producer's own customer id. Ids compare byte by byte ("C" collation) so
-- that cursor pagination orders them the same way on every database.
CREATE TABLE tenants (
    id         text        COLLATE "C" PRIMARY KEY,
    name       text        NOT NULL DEFAULT '',
    metadata   jsonb       NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

-- Endpoints are the URLs of a tenant that receive webhooks. The current
-- signing secret lives on the row; secrets replaced by a rotation stay in
-- previous_secrets, a JSON array of {"key", "expires_at"}, until they expire,
-- so delivery reads everything it signs with in one row.
CREATE TABLE endpoints (
    id                text        COLLATE "C" PRIMARY KEY,
    tenant_id         text        COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    url               text        NOT NULL,
    description       text        NOT NULL DEFAULT '',
    event_types       jsonb       NOT NULL DEFAULT '[]',
    headers           jsonb       NOT NULL DEFAULT '{}',
    disabled          boolean     NOT NULL DEFAULT false,
    disabled_reason   text        NOT NULL DEFAULT '',
    secret            text        NOT NULL,
    secret_created_at timestamptz NOT NULL,
    previous_secrets  jsonb       NOT NULL DEFAULT '[]',
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);

CREATE INDEX endpoints_tenant_id_id_idx ON endpoints (tenant_id, id);

-- API keys are stored as the SHA-256 of the key, never the key itself.
CREATE TABLE api_keys (
    id         text        PRIMARY KEY,
    name       text        NOT NULL,
    hash       bytea       NOT NULL UNIQUE,
    created_at timestamptz NOT NULL
);
