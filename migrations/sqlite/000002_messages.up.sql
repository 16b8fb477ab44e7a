-- Messages are published events. The payload is kept as the exact bytes the
-- producer sent, since webhooks carry it unchanged and signatures cover it.
-- body_hash identifies the event type and payload, so that a replay of the
-- same event_id can be told apart from a conflicting one.
CREATE TABLE messages (
    id         TEXT    NOT NULL PRIMARY KEY,
    tenant_id  TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    event_type TEXT    NOT NULL,
    event_id   TEXT,
    payload    BLOB    NOT NULL,
    body_hash  BLOB    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX messages_tenant_id_event_id_idx ON messages (tenant_id, event_id)
    WHERE event_id IS NOT NULL;
CREATE INDEX messages_tenant_id_id_idx ON messages (tenant_id, id);

-- Deliveries are the state of one message at one endpoint.
CREATE TABLE deliveries (
    message_id      TEXT    NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    endpoint_id     TEXT    NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    reason          TEXT    NOT NULL DEFAULT '',
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (message_id, endpoint_id)
) STRICT;

CREATE INDEX deliveries_endpoint_id_status_idx ON deliveries (endpoint_id, status);

-- Attempts are the HTTP tries of a delivery, newest last. Ids sort by time.
CREATE TABLE attempts (
    id              TEXT    NOT NULL PRIMARY KEY,
    message_id      TEXT    NOT NULL,
    endpoint_id     TEXT    NOT NULL,
    attempt         INTEGER NOT NULL,
    started_at      INTEGER NOT NULL,
    duration_us     INTEGER NOT NULL,
    status_code     INTEGER,
    response_body   BLOB    NOT NULL DEFAULT X'',
    error           TEXT    NOT NULL DEFAULT '',
    succeeded       INTEGER NOT NULL CHECK (succeeded IN (0, 1)),
    next_attempt_at INTEGER,
    FOREIGN KEY (message_id, endpoint_id) REFERENCES deliveries (message_id, endpoint_id) ON DELETE CASCADE
) STRICT;

CREATE INDEX attempts_message_id_id_idx ON attempts (message_id, id);
CREATE INDEX attempts_endpoint_id_id_idx ON attempts (endpoint_id, id);
