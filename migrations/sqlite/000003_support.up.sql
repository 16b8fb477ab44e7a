-- Deliveries carry their message's tenant and event type, so that support
-- can search a tenant's deliveries by status, type and time from an index
-- without reading the messages.
--
-- round counts the replays of a delivery: publishing starts round 0, and
-- each resend or recovery starts the next one. A job carries its round, and
-- a job of an earlier round sends nothing. round_start is how many attempts
-- came before the current round, so that each round follows the retry
-- schedule from its start.
ALTER TABLE deliveries ADD COLUMN tenant_id TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN event_type TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN round INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN round_start INTEGER NOT NULL DEFAULT 0;

UPDATE deliveries SET
    tenant_id = (SELECT m.tenant_id FROM messages m WHERE m.id = deliveries.message_id),
    event_type = (SELECT m.event_type FROM messages m WHERE m.id = deliveries.message_id);

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
-- change.
ALTER TABLE endpoints ADD COLUMN breaker_state TEXT NOT NULL DEFAULT 'closed';
ALTER TABLE endpoints ADD COLUMN breaker_changed_at INTEGER;

-- Recoveries re-queue the failed deliveries of one endpoint whose messages
-- were created in [since, until), in batches, from a background job.
-- cursor is the last message id queued, so that a job cut short resumes
-- where it stopped.
CREATE TABLE recoveries (
    id          TEXT    NOT NULL PRIMARY KEY,
    tenant_id   TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    endpoint_id TEXT    NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
    since       INTEGER NOT NULL,
    until       INTEGER NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('running', 'done', 'canceled')),
    total       INTEGER NOT NULL,
    queued      INTEGER NOT NULL DEFAULT 0,
    cursor      TEXT    NOT NULL DEFAULT '',
    job_id      INTEGER NOT NULL DEFAULT 0,
    actor       TEXT    NOT NULL,
    reason      TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX recoveries_endpoint_id_id_idx ON recoveries (endpoint_id, id);

-- Replays record each request to send a delivery again: who asked, when,
-- and whether by a resend or a recovery. They stay with the message after
-- the endpoint is deleted.
CREATE TABLE replays (
    id          TEXT    NOT NULL PRIMARY KEY,
    tenant_id   TEXT    NOT NULL,
    message_id  TEXT    NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    endpoint_id TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('resend', 'recover')),
    recovery_id TEXT    NOT NULL DEFAULT '',
    actor       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX replays_message_id_id_idx ON replays (message_id, id);

-- Console sessions are stored as the SHA-256 of their token, with the hash
-- of the API key that signed in, so that a session ends with its key.
CREATE TABLE console_sessions (
    token_hash BLOB    NOT NULL PRIMARY KEY,
    key_hash   BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
