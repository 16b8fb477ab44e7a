package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/subscriptions"
)

// Enqueuer queues jobs inside a transaction of the store's: the delivery
// jobs of a publish or a replay, and the job of a recovery. It must run
// every query through tx: the database has one connection, and tx holds it.
type Enqueuer interface {
	EnqueueDeliveries(ctx context.Context, tx *sql.Tx, refs []messages.Ref) error
	EnqueueRecovery(ctx context.Context, tx *sql.Tx, recoveryID string) (int64, error)
}

// WithEnqueue returns a copy of s that queues jobs through enqueue when it
// publishes or replays.
func (s *Store) WithEnqueue(enqueue Enqueuer) *Store {
	c := *s
	c.enqueue = enqueue

	return &c
}

// PublishMessage stores m, a pending delivery for every enabled endpoint of
// its tenant whose filter matches its event type, and their jobs, all in one
// transaction. A reused event id answers the original message, or
// [messages.ErrConflict] when the body differs. The store must have been
// made by [Store.WithEnqueue].
func (s *Store) PublishMessage(ctx context.Context, m messages.Message) (messages.Published, error) {
	results, err := s.PublishMessages(ctx, []messages.Message{m})
	if err != nil {
		return messages.Published{}, err
	}

	return results[0].Published, results[0].Err
}

// PublishMessages publishes ms as [Store.PublishMessage] does, all in one
// transaction: one commit whatever their number. A message of an unknown
// tenant, or reusing an event id with another body, has its error in its
// result; SQLite undoes only the statement that failed.
func (s *Store) PublishMessages(ctx context.Context, ms []messages.Message) ([]messages.PublishResult, error) {
	if s.enqueue == nil {
		return nil, errors.New("publish messages: the store cannot enqueue jobs")
	}

	var results []messages.PublishResult

	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error

		results, err = s.publish(ctx, tx, ms)

		return err
	})
	if err != nil {
		return nil, err
	}

	return results, nil
}

// publish is [Store.PublishMessages] in tx.
func (s *Store) publish(ctx context.Context, tx *sql.Tx, ms []messages.Message) ([]messages.PublishResult, error) {
	var (
		results   = make([]messages.PublishResult, len(ms))
		endpoints = make(map[string][]candidate, 1) // by tenant
		refs      []messages.Ref
	)

	for i, m := range ms {
		inserted, err := insertMessage(ctx, tx, m)
		if errors.Is(err, subscriptions.ErrTenantNotFound) {
			results[i].Err = err
			continue
		}

		if err != nil {
			return nil, err
		}

		if !inserted {
			// An original published earlier in this batch has its
			// deliveries in already.
			results[i].Published, err = replay(ctx, tx, m)
			if errors.Is(err, messages.ErrConflict) {
				results[i].Err = err
			} else if err != nil {
				return nil, err
			}

			continue
		}

		candidates, ok := endpoints[m.TenantID]
		if !ok {
			if candidates, err = tenantEndpoints(ctx, tx, m.TenantID); err != nil {
				return nil, err
			}

			endpoints[m.TenantID] = candidates
		}

		ids := matching(candidates, m.EventType)
		if len(ids) > 0 {
			if err := insertDeliveries(ctx, tx, m, ids); err != nil {
				return nil, err
			}
		}

		refs = append(refs, messages.Refs(m.ID, ids)...)
		results[i].Published = messages.Published{Message: m, Endpoints: len(ids)}
	}

	if len(refs) > 0 {
		if err := s.enqueue.EnqueueDeliveries(ctx, tx, refs); err != nil {
			return nil, fmt.Errorf("enqueue deliveries: %w", err)
		}
	}

	return results, nil
}

// insertMessage stores m and reports whether it did: it does not when m's
// event id is taken. SQLite matches a partial unique index as the conflict
// target only when the clause repeats the index's WHERE.
func insertMessage(ctx context.Context, tx *sql.Tx, m messages.Message) (bool, error) {
	const query = `INSERT INTO messages (id, tenant_id, event_type, event_id, payload, body_hash, created_at)
		VALUES (?, ?, ?, NULLIF(?, ''), ?, ?, ?)
		ON CONFLICT (tenant_id, event_id) WHERE event_id IS NOT NULL DO NOTHING`

	res, err := tx.ExecContext(ctx, query,
		m.ID, m.TenantID, m.EventType, m.EventID, m.Payload, m.BodyHash[:], micros(m.CreatedAt))
	if isForeignKeyViolation(err) {
		return false, subscriptions.ErrTenantNotFound
	}

	if err != nil {
		return false, fmt.Errorf("insert message: %w", err)
	}

	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("insert message: %w", err)
	}

	return n == 1, nil
}

// replay answers a publish whose event id is taken.
func replay(ctx context.Context, tx *sql.Tx, m messages.Message) (messages.Published, error) {
	const query = "SELECT " + messageColumns + `,
		(SELECT count(*) FROM deliveries d WHERE d.message_id = m.id)
		FROM messages m WHERE tenant_id = ? AND event_id = ?`

	var (
		orig  messages.Message
		count int
	)

	row := tx.QueryRowContext(ctx, query, m.TenantID, m.EventID)
	if err := scanMessage(row, &orig, &count); err != nil {
		return messages.Published{}, fmt.Errorf("read published message: %w", err)
	}

	if !bytes.Equal(orig.BodyHash[:], m.BodyHash[:]) {
		return messages.Published{}, messages.ErrConflict
	}

	return messages.Published{Message: orig, Endpoints: count, Replayed: true}, nil
}

// candidate is an enabled endpoint that a message of its tenant may go to.
type candidate struct {
	id     string
	filter []string
}

// tenantEndpoints returns the tenant's enabled endpoints in order of id.
func tenantEndpoints(ctx context.Context, tx *sql.Tx, tenantID string) ([]candidate, error) {
	const query = "SELECT id, event_types FROM endpoints WHERE tenant_id = ? AND NOT disabled ORDER BY id"

	candidates, err := queryAll(ctx, tx, func(row scanner) (candidate, error) {
		var c candidate
		err := row.Scan(&c.id, jsonColumn{&c.filter})

		return c, err
	}, query, tenantID)
	if err != nil {
		return nil, fmt.Errorf("find endpoints: %w", err)
	}

	return candidates, nil
}

// matching returns the ids of the candidates whose filter matches the
// event type.
func matching(candidates []candidate, eventType string) []string {
	var ids []string

	for _, c := range candidates {
		if messages.Matches(c.filter, eventType) {
			ids = append(ids, c.id)
		}
	}

	return ids
}

// insertDeliveries stores a pending delivery of m to each endpoint, in one
// statement that reads the ids from a JSON array.
func insertDeliveries(ctx context.Context, tx *sql.Tx, m messages.Message, endpointIDs []string) error {
	const query = `INSERT INTO deliveries (message_id, endpoint_id, tenant_id, event_type, status, updated_at)
		SELECT ?, value, ?, ?, 'pending', ? FROM json_each(?)`

	_, err := tx.ExecContext(ctx, query, m.ID, m.TenantID, m.EventType, micros(m.CreatedAt), jsonValue{endpointIDs})
	if err != nil {
		return fmt.Errorf("insert deliveries: %w", err)
	}

	return nil
}

const messageColumns = `m.id, m.tenant_id, m.event_type, COALESCE(m.event_id, ''), m.payload,
	m.body_hash, m.created_at`

// scanMessage scans a row of messageColumns into m, and the columns after
// them into extra.
func scanMessage(row scanner, m *messages.Message, extra ...any) error {
	var hash []byte

	dest := make([]any, 0, 7+len(extra))
	dest = append(dest, &m.ID, &m.TenantID, &m.EventType, &m.EventID, bytesColumn{&m.Payload},
		&hash, timeColumn{&m.CreatedAt})
	dest = append(dest, extra...)

	if err := row.Scan(dest...); err != nil {
		return err
	}

	copy(m.BodyHash[:], hash)

	return nil
}

// GetMessage returns the tenant's message with id and its deliveries, or
// [messages.ErrNotFound].
func (s *Store) GetMessage(ctx context.Context, tenantID, id string) (messages.Message, []messages.Delivery, error) {
	var m messages.Message

	const query = "SELECT " + messageColumns + " FROM messages m WHERE id = ? AND tenant_id = ?"

	row := s.db.QueryRowContext(ctx, query, id, tenantID)
	if err := scanMessage(row, &m); errors.Is(err, sql.ErrNoRows) {
		return messages.Message{}, nil, messages.ErrNotFound
	} else if err != nil {
		return messages.Message{}, nil, fmt.Errorf("get message: %w", err)
	}

	const deliveriesQuery = "SELECT " + deliveryColumns + `
		FROM deliveries d WHERE d.message_id = ? ORDER BY d.endpoint_id`

	deliveries, err := queryAll(ctx, s.db, scanDelivery, deliveriesQuery, id)
	if err != nil {
		return messages.Message{}, nil, fmt.Errorf("get deliveries: %w", err)
	}

	return m, deliveries, nil
}

// checkMessage returns nil when the tenant has the message, and
// [messages.ErrNotFound] otherwise.
func (s *Store) checkMessage(ctx context.Context, tenantID, messageID string) error {
	const query = "SELECT EXISTS (SELECT 1 FROM messages WHERE id = ? AND tenant_id = ?)"

	var found bool
	if err := s.db.QueryRowContext(ctx, query, messageID, tenantID).Scan(&found); err != nil {
		return fmt.Errorf("get message: %w", err)
	}

	if !found {
		return messages.ErrNotFound
	}

	return nil
}

// deliveryColumns are the columns of a delivery in the order scanDelivery
// reads them, from the table aliased d.
const deliveryColumns = `d.message_id, d.endpoint_id, d.tenant_id, d.event_type, d.status,
	d.attempts, d.next_attempt_at, d.reason, d.round, d.round_start, d.updated_at`

func scanDelivery(row scanner) (messages.Delivery, error) {
	var d messages.Delivery

	err := row.Scan(&d.MessageID, &d.EndpointID, &d.TenantID, &d.EventType, &d.Status,
		&d.Attempts, timeColumn{&d.NextAttemptAt}, &d.Reason, &d.Round, &d.RoundStart,
		timeColumn{&d.UpdatedAt})

	return d, err
}
