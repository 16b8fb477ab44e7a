DROP TABLE console_sessions;
DROP TABLE replays;
DROP TABLE recoveries;

ALTER TABLE endpoints DROP COLUMN breaker_state;
ALTER TABLE endpoints DROP COLUMN breaker_changed_at;

DROP INDEX attempts_endpoint_id_failed_idx;
DROP INDEX deliveries_endpoint_id_status_message_id_idx;
DROP INDEX deliveries_tenant_id_status_message_id_idx;
DROP INDEX deliveries_tenant_id_message_id_idx;
CREATE INDEX deliveries_endpoint_id_status_idx ON deliveries (endpoint_id, status);

ALTER TABLE deliveries DROP COLUMN tenant_id;
ALTER TABLE deliveries DROP COLUMN event_type;
ALTER TABLE deliveries DROP COLUMN round;
ALTER TABLE deliveries DROP COLUMN round_start;
