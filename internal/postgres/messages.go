package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/subscriptions"
)

// Enqueuer queues jobs inside a transaction of the store's: the delivery
// jobs of a publish or a replay, and the job of a recovery.
type Enqueuer interface {
	EnqueueDeliveries(ctx context.Context, tx pgx.Tx, refs []messages.Ref) error
	EnqueueRecovery(ctx context.Context, tx pgx.Tx, recoveryID string) (int64, error)
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
	if s.enqueue == nil {
		return messages.Published{}, errors.New("publish message: the store cannot enqueue jobs")
	}

	var out messages.Published

	err := s.inTx(ctx, func(tx pgx.Tx) error {
		inserted, err := insertMessage(ctx, tx, m)
		if err != nil {
			return err
		}

		if !inserted {
			out, err = replay(ctx, tx, m)
			return err
		}

		endpointIDs, err := matchingEndpoints(ctx, tx, m)
		if err != nil {
			return err
		}

		if len(endpointIDs) > 0 {
			const query = `INSERT INTO deliveries
				(message_id, endpoint_id, tenant_id, event_type, status, updated_at)
				SELECT $1, unnest($2::text[]), $3, $4, 'pending', $5`
			_, err := tx.Exec(ctx, query, m.ID, endpointIDs, m.TenantID, m.EventType, m.CreatedAt)
			if err != nil {
				return fmt.Errorf("insert deliveries: %w", err)
			}

			if err := s.enqueue.EnqueueDeliveries(ctx, tx, messages.Refs(m.ID, endpointIDs)); err != nil {
				return fmt.Errorf("enqueue deliveries: %w", err)
			}
		}

		out = messages.Published{Message: m, Endpoints: len(endpointIDs)}

		return nil
	})

	return out, err
}

func insertMessage(ctx context.Context, tx pgx.Tx, m messages.Message) (bool, error) {
	const query = `INSERT INTO messages (id, tenant_id, event_type, event_id, payload, body_hash, created_at)
		VALUES ($1, $2, $3, NULLIF($4, ''), $5, $6, $7)
		ON CONFLICT (tenant_id, event_id) WHERE event_id IS NOT NULL DO NOTHING`

	tag, err := tx.Exec(ctx, query,
		m.ID, m.TenantID, m.EventType, m.EventID, m.Payload, m.BodyHash[:], m.CreatedAt)
	if isForeignKeyViolation(err) {
		return false, subscriptions.ErrTenantNotFound
	}

	if err != nil {
		return false, fmt.Errorf("insert message: %w", err)
	}

	return tag.RowsAffected() == 1, nil
}

// replay answers a publish whose event id is taken.
func replay(ctx context.Context, tx pgx.Tx, m messages.Message) (messages.Published, error) {
	const query = "SELECT " + messageColumns + `,
		(SELECT count(*) FROM deliveries d WHERE d.message_id = m.id)
		FROM messages m WHERE tenant_id = $1 AND event_id = $2`

	var (
		orig  messages.Message
		count int
	)

	row := tx.QueryRow(ctx, query, m.TenantID, m.EventID)
	if err := scanMessage(row, &orig, &count); err != nil {
		return messages.Published{}, fmt.Errorf("read published message: %w", err)
	}

	if !bytes.Equal(orig.BodyHash[:], m.BodyHash[:]) {
		return messages.Published{}, messages.ErrConflict
	}

	return messages.Published{Message: orig, Endpoints: count, Replayed: true}, nil
}

// matchingEndpoints returns the ids of the endpoints m goes to. It locks
// them against deletion until the transaction ends, so that a delivery is
// never written for an endpoint deleted in the meantime; an endpoint whose
// deletion commits first is left out.
func matchingEndpoints(ctx context.Context, tx pgx.Tx, m messages.Message) ([]string, error) {
	const query = `SELECT id, event_types FROM endpoints
		WHERE tenant_id = $1 AND NOT disabled ORDER BY id FOR KEY SHARE`

	rows, err := tx.Query(ctx, query, m.TenantID)
	if err != nil {
		return nil, fmt.Errorf("find endpoints: %w", err)
	}

	var (
		ids    []string
		id     string
		filter []string
	)

	_, err = pgx.ForEachRow(rows, []any{&id, &filter}, func() error {
		if messages.Matches(filter, m.EventType) {
			ids = append(ids, id)
		}

		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("find endpoints: %w", err)
	}

	return ids, nil
}

const messageColumns = `m.id, m.tenant_id, m.event_type, COALESCE(m.event_id, ''), m.payload,
	m.body_hash, m.created_at`

func scanMessage(row pgx.Row, m *messages.Message, extra ...any) error {
	var hash []byte

	dest := append([]any{&m.ID, &m.TenantID, &m.EventType, &m.EventID, &m.Payload, &hash, &m.CreatedAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return err //nolint:wrapcheck // wrapped by the caller
	}

	copy(m.BodyHash[:], hash)
	m.CreatedAt = m.CreatedAt.UTC()

	return nil
}

// GetMessage returns the tenant's message with id and its deliveries, or
// [messages.ErrNotFound].
func (s *Store) GetMessage(ctx context.Context, tenantID, id string) (messages.Message, []messages.Delivery, error) {
	var m messages.Message

	const query = "SELECT " + messageColumns + " FROM messages m WHERE id = $1 AND tenant_id = $2"

	row := s.pool.QueryRow(ctx, query, id, tenantID)
	if err := scanMessage(row, &m); errors.Is(err, pgx.ErrNoRows) {
		return messages.Message{}, nil, messages.ErrNotFound
	} else if err != nil {
		return messages.Message{}, nil, fmt.Errorf("get message: %w", err)
	}

	const deliveriesQuery = "SELECT " + deliveryColumns + `
		FROM deliveries d WHERE d.message_id = $1 ORDER BY d.endpoint_id`

	rows, err := s.pool.Query(ctx, deliveriesQuery, id)
	if err != nil {
		return messages.Message{}, nil, fmt.Errorf("get deliveries: %w", err)
	}

	deliveries, err := pgx.CollectRows(rows, scanDelivery)
	if err != nil {
		return messages.Message{}, nil, fmt.Errorf("get deliveries: %w", err)
	}

	return m, deliveries, nil
}

const deliveryColumns = `d.message_id, d.endpoint_id, d.tenant_id, d.event_type, d.status,
	d.attempts, d.next_attempt_at, d.reason, d.round, d.round_start, d.updated_at`

func scanDelivery(row pgx.CollectableRow) (messages.Delivery, error) {
	var (
		d    messages.Delivery
		next *time.Time
	)

	err := row.Scan(&d.MessageID, &d.EndpointID, &d.TenantID, &d.EventType, &d.Status,
		&d.Attempts, &next, &d.Reason, &d.Round, &d.RoundStart, &d.UpdatedAt)
	if err != nil {
		return messages.Delivery{}, err //nolint:wrapcheck // wrapped by the caller
	}

	if next != nil {
		d.NextAttemptAt = next.UTC()
	}

	d.UpdatedAt = d.UpdatedAt.UTC()

	return d, nil
}
