package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/subscriptions"
)

// Resend starts the next round of the delivery of r's message to r's
// endpoint, whatever its state, or its first when the message never went
// there. It records r and queues the round's job, all in one transaction,
// and returns the delivery. It returns [messages.ErrNotFound],
// [subscriptions.ErrEndpointNotFound] or [subscriptions.ErrEndpointDisabled].
// The store must have been made by [Store.WithEnqueue].
func (s *Store) Resend(ctx context.Context, r messages.Replay) (messages.Delivery, error) {
	if s.enqueue == nil {
		return messages.Delivery{}, errors.New("resend: the store cannot enqueue jobs")
	}

	var d messages.Delivery

	err := s.inTx(ctx, func(tx pgx.Tx) error {
		eventType, err := messageEventType(ctx, tx, r.TenantID, r.MessageID)
		if err != nil {
			return err
		}

		if err := lockEnabledEndpoint(ctx, tx, r.TenantID, r.EndpointID); err != nil {
			return err
		}

		d, err = startRound(ctx, tx, r, eventType)
		if err != nil {
			return err
		}

		if err := insertReplays(ctx, tx, r, []string{r.ID}, []string{r.MessageID}); err != nil {
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

// queryRower runs a query of one row on a pool or in a transaction.
type queryRower interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// messageEventType returns the event type of the tenant's message with
// id, or [messages.ErrNotFound]. It also serves to tell an empty listing
// of a message apart from a missing message.
func messageEventType(ctx context.Context, db queryRower, tenantID, id string) (string, error) {
	const query = "SELECT event_type FROM messages WHERE id = $1 AND tenant_id = $2"

	var eventType string

	err := db.QueryRow(ctx, query, id, tenantID).Scan(&eventType)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", messages.ErrNotFound
	}

	if err != nil {
		return "", fmt.Errorf("read message: %w", err)
	}

	return eventType, nil
}

// lockEndpoint reports whether the tenant's endpoint with id is disabled
// and why, or returns [subscriptions.ErrEndpointNotFound]. It locks the
// endpoint until the transaction ends, so that a concurrent disable waits
// and then fails the deliveries the transaction made pending, instead of
// missing them.
func lockEndpoint(ctx context.Context, tx pgx.Tx, tenantID, id string) (disabled bool, reason string, err error) {
	const query = `SELECT disabled, disabled_reason FROM endpoints
		WHERE id = $1 AND tenant_id = $2 FOR SHARE`

	err = tx.QueryRow(ctx, query, id, tenantID).Scan(&disabled, &reason)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, "", subscriptions.ErrEndpointNotFound
	}

	if err != nil {
		return false, "", fmt.Errorf("lock endpoint: %w", err)
	}

	return disabled, reason, nil
}

// lockEnabledEndpoint locks the tenant's endpoint with id as lockEndpoint
// does, or returns [subscriptions.ErrEndpointNotFound] or, with why the
// endpoint was disabled, [*subscriptions.DisabledError].
func lockEnabledEndpoint(ctx context.Context, tx pgx.Tx, tenantID, id string) error {
	disabled, reason, err := lockEndpoint(ctx, tx, tenantID, id)
	if err != nil {
		return err
	}

	if disabled {
		return &subscriptions.DisabledError{Reason: reason}
	}

	return nil
}

// startRound makes the delivery r asks for pending again in its next
// round, due at once with a fresh retry schedule, or makes it in round 0
// when the message never went to the endpoint, and returns it. eventType
// is the message's.
func startRound(ctx context.Context, tx pgx.Tx, r messages.Replay, eventType string) (messages.Delivery, error) {
	const query = `INSERT INTO deliveries AS d
			(message_id, endpoint_id, tenant_id, event_type, status, next_attempt_at, updated_at)
		VALUES ($1, $2, $3, $4, 'pending', $5, $5)
		ON CONFLICT (message_id, endpoint_id) DO UPDATE SET status = 'pending',
			round = d.round + 1, round_start = d.attempts, next_attempt_at = $5, reason = '',
			updated_at = $5
		RETURNING ` + deliveryColumns

	rows, err := tx.Query(ctx, query, r.MessageID, r.EndpointID, r.TenantID, eventType, r.CreatedAt)
	if err != nil {
		return messages.Delivery{}, fmt.Errorf("start delivery round: %w", err)
	}

	d, err := pgx.CollectExactlyOneRow(rows, scanDelivery)
	if err != nil {
		return messages.Delivery{}, fmt.Errorf("start delivery round: %w", err)
	}

	return d, nil
}

// insertReplays records the replays of r's kind, recovery, actor and time,
// one for each pair of ids and messageIDs.
func insertReplays(ctx context.Context, tx pgx.Tx, r messages.Replay, ids, messageIDs []string) error {
	const query = `INSERT INTO replays
			(id, tenant_id, message_id, endpoint_id, kind, recovery_id, actor, created_at)
		SELECT r.id, $3, r.message_id, $4, $5, $6, $7, $8
		FROM unnest($1::text[], $2::text[]) AS r (id, message_id)`

	_, err := tx.Exec(ctx, query, ids, messageIDs, r.TenantID, r.EndpointID, string(r.Kind),
		r.RecoveryID, r.Actor, r.CreatedAt)
	if err != nil {
		return fmt.Errorf("insert replays: %w", err)
	}

	return nil
}

// ListReplays returns at most limit of the replays of the tenant's message,
// newest first, or [messages.ErrNotFound].
func (s *Store) ListReplays(ctx context.Context, tenantID, messageID string, limit int) ([]messages.Replay, error) {
	const query = `SELECT id, tenant_id, message_id, endpoint_id, kind, recovery_id, actor, created_at
		FROM replays WHERE message_id = $1 AND tenant_id = $2 ORDER BY id DESC LIMIT $3`

	rows, err := s.pool.Query(ctx, query, messageID, tenantID, limit)
	if err != nil {
		return nil, fmt.Errorf("list replays: %w", err)
	}

	replays, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (messages.Replay, error) {
		var r messages.Replay

		err := row.Scan(&r.ID, &r.TenantID, &r.MessageID, &r.EndpointID, &r.Kind, &r.RecoveryID,
			&r.Actor, &r.CreatedAt)
		r.CreatedAt = r.CreatedAt.UTC()

		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("list replays: %w", err)
	}

	if len(replays) == 0 {
		// An empty list needs telling apart from a missing message.
		if _, err := messageEventType(ctx, s.pool, tenantID, messageID); err != nil {
			return nil, err
		}
	}

	return replays, nil
}
