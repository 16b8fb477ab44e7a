-- Deliveries carry their message's tenant and event type, so that support
-- can search a tenant's deliveries by status, type and time from an index
-- without reading the messages.
--
-- round counts the replays of a delivery: publishing starts round 0, and
-- each resend or recovery starts the next one. A job carries its round, and
-- a job of an earlier round sends nothing. round_start is how many attempts
-- came before the current round, so that each round follows the retry
-- schedule from its start.
ALTER TABLE deliveries
    ADD COLUMN tenant_id   text    COLLATE "C",
    ADD COLUMN event_type  text,
    ADD COLUMN round       integer NOT NULL DEFAULT 0,
    ADD COLUMN round_start integer NOT NULL DEFAULT 0;

UPDATE deliveries d SET tenant_id = m.tenant_id, event_type = m.event_type
    FROM messages m WHERE m.id = d.message_id;

ALTER TABLE deliveries
    ALTER COLUMN tenant_id SET NOT NULL,
    ALTER COLUMN event_type SET NOT NULL;

-- Message ids sort by creation time, so these indexes serve a listing newest
-- first, a time window and a cursor at once.
DROP INDEX deliveries_endpoint_id_status_idx;
CREATE INDEX deliveries_tenant_id_message_id_idx ON deliveries (tenant_id, message_id, endpoint_id);
CREATE INDEX deliveries_tenant_id_status_message_id_idx
    ON deliveries (tenant_id, status, message_id, endpoint_id);
CREATE INDEX deliveries_endpoint_id_status_message_id_idx ON deliveries (endpoint_id, status, message_id);

-- Failed attempts are what support looks for. A partial index finds them
-- among millions of successes, and costs a successful attempt nothing.
CREATE INDEX attempts_endpoint_id_failed_idx ON attempts (endpoint_id, id) WHERE NOT succeeded;

-- The state of the endpoint's circuit breaker, as a worker last saw it
-- change. Each worker process keeps its own breakers; this is the latest
-- change any of them reported.
ALTER TABLE endpoints
    ADD COLUMN breaker_state      text NOT NULL DEFAULT 'closed',
    ADD COLUMN breaker_changed_at timestamptz;

-- Recoveries re-queue the failed deliveries of one endpoint whose messages
-- were created in [since, until), in batches, from a background job.
-- cursor is the last message id queued, so that a job cut short resumes
-- where it stopped.
CREATE TABLE recoveries (
    id          text        COLLATE "C" PRIMARY KEY,
    tenant_id   text        COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    endpoint_id text        COLLATE "C" NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
    since       timestamptz NOT NULL,
    until       timestamptz NOT NULL,
    status      text        NOT NULL CHECK (status IN ('running', 'done', 'canceled')),
    total       integer     NOT NULL,
    queued      integer     NOT NULL DEFAULT 0,
    cursor      text        COLLATE "C" NOT NULL DEFAULT '',
    job_id      bigint      NOT NULL DEFAULT 0,
    actor       text        NOT NULL,
    reason      text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

CREATE INDEX recoveries_endpoint_id_id_idx ON recoveries (endpoint_id, id);

-- Replays record each request to send a delivery again: who asked, when,
-- and whether by a resend or a recovery. They stay with the message after
-- the endpoint is deleted.
CREATE TABLE replays (
    id          text        COLLATE "C" PRIMARY KEY,
    tenant_id   text        COLLATE "C" NOT NULL,
    message_id  text        COLLATE "C" NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    endpoint_id text        COLLATE "C" NOT NULL,
    kind        text        NOT NULL CHECK (kind IN ('resend', 'recover')),
    recovery_id text        COLLATE "C" NOT NULL DEFAULT '',
    actor       text        NOT NULL,
    created_at  timestamptz NOT NULL
);

CREATE INDEX replays_message_id_id_idx ON replays (message_id, id);

-- Console sessions are stored as the SHA-256 of their token, with the hash
-- of the API key that signed in, so that a session ends with its key.
CREATE TABLE console_sessions (
    token_hash bytea       PRIMARY KEY,
    key_hash   bytea       NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
