package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/subscriptions"
)

// replayColumns are the columns of a replay in the order scanReplay reads
// them.
const replayColumns = `id, tenant_id, message_id, endpoint_id, kind, recovery_id, actor, created_at`

// Resend starts the next round of the delivery r names, whatever its
// state, or its first round when the message never went to the endpoint.
// It records r and queues the round's job in the same transaction. It
// returns the delivery as the new round starts it, [messages.ErrNotFound],
// [subscriptions.ErrEndpointNotFound] or
// [subscriptions.ErrEndpointDisabled]. The store must have been made by
// [Store.WithEnqueue].
func (s *Store) Resend(ctx context.Context, r messages.Replay) (messages.Delivery, error) {
	if s.enqueue == nil {
		return messages.Delivery{}, errors.New("resend: the store cannot enqueue jobs")
	}

	var d messages.Delivery

	err := s.inTx(ctx, func(tx *sql.Tx) error {
		eventType, err := messageEventType(ctx, tx, r.TenantID, r.MessageID)
		if err != nil {
			return err
		}

		if err := checkEnabled(ctx, tx, r.TenantID, r.EndpointID); err != nil {
			return err
		}

		if d, err = resendDelivery(ctx, tx, r, eventType); err != nil {
			return err
		}

		if err := insertReplays(ctx, tx, []messages.Replay{r}); err != nil {
			return err
		}

		ref := messages.Ref{MessageID: d.MessageID, EndpointID: d.EndpointID, Round: d.Round}
		if err := s.enqueue.EnqueueDeliveries(ctx, tx, []messages.Ref{ref}); err != nil {
			return fmt.Errorf("enqueue delivery: %w", err)
		}

		return nil
	})
	if err != nil {
		return messages.Delivery{}, err
	}

	return d, nil
}

// messageEventType returns the event type of the tenant's message, or
// [messages.ErrNotFound].
func messageEventType(ctx context.Context, tx *sql.Tx, tenantID, messageID string) (string, error) {
	const query = "SELECT event_type FROM messages WHERE id = ? AND tenant_id = ?"

	var eventType string

	err := tx.QueryRowContext(ctx, query, messageID, tenantID).Scan(&eventType)
	if errors.Is(err, sql.ErrNoRows) {
		return "", messages.ErrNotFound
	}

	if err != nil {
		return "", fmt.Errorf("get message: %w", err)
	}

	return eventType, nil
}

// checkEnabled returns nil when the tenant has the endpoint and it is
// enabled, and [subscriptions.ErrEndpointNotFound] or, with why the
// endpoint was disabled, [*subscriptions.DisabledError] otherwise.
func checkEnabled(ctx context.Context, tx *sql.Tx, tenantID, endpointID string) error {
	e, err := getEndpoint(ctx, tx, tenantID, endpointID)
	if err != nil {
		return err
	}

	if e.Disabled {
		return &subscriptions.DisabledError{Reason: e.DisabledReason}
	}

	return nil
}

// resendDelivery starts the next round of the delivery r names, or makes
// it in round 0, due at once, and returns it.
func resendDelivery(
	ctx context.Context, tx *sql.Tx, r messages.Replay, eventType string,
) (messages.Delivery, error) {
	const (
		upsert = `INSERT INTO deliveries (message_id, endpoint_id, tenant_id, event_type, status,
				next_attempt_at, updated_at)
			VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?5)
			ON CONFLICT (message_id, endpoint_id) DO UPDATE SET status = 'pending',
				round = round + 1, round_start = attempts,
				next_attempt_at = excluded.next_attempt_at, reason = '',
				updated_at = excluded.updated_at`
		query = "SELECT " + deliveryColumns + `
			FROM deliveries d WHERE d.message_id = ? AND d.endpoint_id = ?`
	)

	_, err := tx.ExecContext(ctx, upsert,
		r.MessageID, r.EndpointID, r.TenantID, eventType, micros(r.CreatedAt))
	if err != nil {
		return messages.Delivery{}, fmt.Errorf("replay delivery: %w", err)
	}

	d, err := scanDelivery(tx.QueryRowContext(ctx, query, r.MessageID, r.EndpointID))
	if err != nil {
		return messages.Delivery{}, fmt.Errorf("read replayed delivery: %w", err)
	}

	return d, nil
}

// insertReplays records replays.
func insertReplays(ctx context.Context, tx *sql.Tx, replays []messages.Replay) error {
	const query = `INSERT INTO replays (id, tenant_id, message_id, endpoint_id, kind, recovery_id,
			actor, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`

	stmt, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return fmt.Errorf("record replays: %w", err)
	}
	defer stmt.Close()

	for _, r := range replays {
		_, err := stmt.ExecContext(ctx, r.ID, r.TenantID, r.MessageID, r.EndpointID, string(r.Kind),
			r.RecoveryID, r.Actor, micros(r.CreatedAt))
		if err != nil {
			return fmt.Errorf("record replay: %w", err)
		}
	}

	return nil
}

// ListReplays returns at most limit replays of the tenant's message,
// newest first, or [messages.ErrNotFound].
func (s *Store) ListReplays(
	ctx context.Context, tenantID, messageID string, limit int,
) ([]messages.Replay, error) {
	const query = "SELECT " + replayColumns + ` FROM replays
		WHERE message_id = ? AND tenant_id = ? ORDER BY id DESC LIMIT ?`

	if err := checkLimit(limit); err != nil {
		return nil, fmt.Errorf("list replays: %w", err)
	}

	replays, err := queryAll(ctx, s.db, scanReplay, query, messageID, tenantID, limit)
	if err != nil {
		return nil, fmt.Errorf("list replays: %w", err)
	}

	if len(replays) == 0 {
		// An empty page needs telling apart from a missing message.
		if err := s.checkMessage(ctx, tenantID, messageID); err != nil {
			return nil, err
		}
	}

	return replays, nil
}

func scanReplay(row scanner) (messages.Replay, error) {
	var r messages.Replay

	err := row.Scan(&r.ID, &r.TenantID, &r.MessageID, &r.EndpointID, &r.Kind, &r.RecoveryID,
		&r.Actor, timeColumn{&r.CreatedAt})

	return r, err
}
