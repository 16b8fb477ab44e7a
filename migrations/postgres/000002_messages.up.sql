-- Messages are published events. The payload is kept as the exact bytes the
-- producer sent, since webhooks carry it unchanged and signatures cover it.
-- body_hash identifies the event type and payload, so that a replay of the
-- same event_id can be told apart from a conflicting one.
CREATE TABLE messages (
    id         text        COLLATE "C" PRIMARY KEY,
    tenant_id  text        COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    event_type text        NOT NULL,
    event_id   text,
    payload    bytea       NOT NULL,
    body_hash  bytea       NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE UNIQUE INDEX messages_tenant_id_event_id_idx ON messages (tenant_id, event_id)
    WHERE event_id IS NOT NULL;
CREATE INDEX messages_tenant_id_id_idx ON messages (tenant_id, id);

-- Deliveries are the state of one message at one endpoint.
CREATE TABLE deliveries (
    message_id      text        COLLATE "C" NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    endpoint_id     text        COLLATE "C" NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
    status          text        NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    reason          text        NOT NULL DEFAULT '',
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (message_id, endpoint_id)
);

CREATE INDEX deliveries_endpoint_id_status_idx ON deliveries (endpoint_id, status);

-- Attempts are the HTTP tries of a delivery, newest last. Ids sort by time.
CREATE TABLE attempts (
    id              text        COLLATE "C" PRIMARY KEY,
    message_id      text        COLLATE "C" NOT NULL,
    endpoint_id     text        COLLATE "C" NOT NULL,
    attempt         integer     NOT NULL,
    started_at      timestamptz NOT NULL,
    duration_us     bigint      NOT NULL,
    status_code     integer,
    response_body   bytea       NOT NULL DEFAULT '',
    error           text        NOT NULL DEFAULT '',
    succeeded       boolean     NOT NULL,
    next_attempt_at timestamptz,
    FOREIGN KEY (message_id, endpoint_id) REFERENCES deliveries (message_id, endpoint_id) ON DELETE CASCADE
);

CREATE INDEX attempts_message_id_id_idx ON attempts (message_id, id);
CREATE INDEX attempts_endpoint_id_id_idx ON attempts (endpoint_id, id);
