package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/messages"
)

// LoadTarget reads the delivery of message to endpoint with its payload and
// endpoint in one query, or returns [messages.ErrNotFound] when the
// delivery is gone (its message or endpoint was deleted).
func (s *Store) LoadTarget(ctx context.Context, messageID, endpointID string) (messages.Target, error) {
	return loadTarget(ctx, s.db, messages.DeliveryKey{MessageID: messageID, EndpointID: endpointID})
}

// LoadTargets reads the deliveries of keys with their payloads and
// endpoints. A delivery that is gone is missing from the map. The queries
// run in one transaction, so that they see one state of the database.
func (s *Store) LoadTargets(
	ctx context.Context, keys []messages.DeliveryKey,
) (map[messages.DeliveryKey]messages.Target, error) {
	targets := make(map[messages.DeliveryKey]messages.Target, len(keys))

	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, k := range keys {
			t, err := loadTarget(ctx, tx, k)
			if errors.Is(err, messages.ErrNotFound) {
				continue
			}

			if err != nil {
				return err
			}

			targets[k] = t
		}

		return nil
	})
	if err != nil {
		return nil, err
	}

	return targets, nil
}

func loadTarget(ctx context.Context, q querier, k messages.DeliveryKey) (messages.Target, error) {
	const query = "SELECT " + deliveryColumns + ", m.payload, " + endpointColumns + `
		FROM deliveries d
		JOIN messages m ON m.id = d.message_id
		JOIN endpoints e ON e.id = d.endpoint_id
		WHERE d.message_id = ? AND d.endpoint_id = ?`

	var (
		t = messages.Target{}
		d = &t.Delivery
	)

	row := q.QueryRowContext(ctx, query, k.MessageID, k.EndpointID)

	e, err := scanEndpointAfter(row, &d.MessageID, &d.EndpointID, &d.TenantID, &d.EventType,
		&d.Status, &d.Attempts, timeColumn{&d.NextAttemptAt}, &d.Reason, &d.Round, &d.RoundStart,
		timeColumn{&d.UpdatedAt}, bytesColumn{&t.Payload})
	if errors.Is(err, sql.ErrNoRows) {
		return messages.Target{}, messages.ErrNotFound
	}

	if err != nil {
		return messages.Target{}, fmt.Errorf("load delivery: %w", err)
	}

	t.Endpoint = e

	return t, nil
}

// RecordAttempt stores a and sets its delivery's state, in one
// transaction. reason says why a failed delivery was given up. An attempt
// of a round that is no longer current is stored, but leaves the delivery
// as the newer round has it.
func (s *Store) RecordAttempt(ctx context.Context, a messages.Attempt, status messages.Status, reason string) error {
	return s.RecordAttempts(ctx, []messages.Record{{Attempt: a, Status: status, Reason: reason}}, nil)
}

// RecordAttempts stores the attempts of records and sets their deliveries'
// states as [Store.RecordAttempt] does, and queues the delivery jobs of
// refs, all in one transaction. The store must have been made by
// [Store.WithEnqueue] to queue jobs. It returns [messages.ErrNotFound]
// when the delivery of a lone record is gone.
func (s *Store) RecordAttempts(ctx context.Context, records []messages.Record, refs []messages.Ref) error {
	if len(refs) > 0 && s.enqueue == nil {
		return errors.New("record attempts: the store cannot enqueue jobs")
	}

	return s.inTx(ctx, func(tx *sql.Tx) error {
		for _, r := range records {
			err := recordAttempt(ctx, tx, r.Attempt, r.Status, r.Reason)
			if isForeignKeyViolation(err) && len(records) == 1 {
				return messages.ErrNotFound // the delivery was deleted
			}

			if err != nil {
				return err
			}
		}

		if len(refs) == 0 {
			return nil
		}

		if err := s.enqueue.EnqueueDeliveries(ctx, tx, refs); err != nil {
			return fmt.Errorf("enqueue deliveries: %w", err)
		}

		return nil
	})
}

func recordAttempt(ctx context.Context, tx *sql.Tx, a messages.Attempt, status messages.Status, reason string) error {
	const insert = `INSERT INTO attempts (id, message_id, endpoint_id, attempt, started_at,
			duration_us, status_code, response_body, error, succeeded, next_attempt_at)
		VALUES (?, ?, ?, ?, ?, ?, NULLIF(?, 0), COALESCE(?, X''), ?, ?, ?)`

	_, err := tx.ExecContext(ctx, insert, a.ID, a.MessageID, a.EndpointID, a.Number,
		micros(a.StartedAt), a.Duration.Microseconds(), a.StatusCode, a.ResponseBody, a.Error,
		a.Succeeded, nullMicros(a.NextAttemptAt))
	if err != nil {
		return fmt.Errorf("record attempt: %w", err)
	}

	// The delivery changed when the attempt ended.
	const update = `UPDATE deliveries SET status = ?, attempts = ?, next_attempt_at = ?,
		reason = ?, updated_at = ? WHERE message_id = ? AND endpoint_id = ? AND round = ?`

	_, err = tx.ExecContext(ctx, update, string(status), a.Number, nullMicros(a.NextAttemptAt),
		reason, micros(a.StartedAt)+a.Duration.Microseconds(), a.MessageID, a.EndpointID, a.Round)
	if err != nil {
		return fmt.Errorf("record attempt: %w", err)
	}

	return nil
}

// RecordGone stores a, the attempt answered 410 Gone, fails its delivery,
// disables the endpoint for reason and fails every delivery to it still
// pending, all in one transaction: either the endpoint is disabled with
// its attempt on record, or nothing changed and the job can try again.
func (s *Store) RecordGone(ctx context.Context, a messages.Attempt, reason string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := recordAttempt(ctx, tx, a, messages.StatusFailed, reason); err != nil {
			return err
		}

		return disableEndpoint(ctx, tx, a.EndpointID, reason)
	})
}

// FailDelivery gives up the delivery f names, without an attempt, for its
// reason, when it is in the state f says.
func (s *Store) FailDelivery(ctx context.Context, f messages.Failure) error {
	const query = `UPDATE deliveries SET status = 'failed', next_attempt_at = NULL, reason = ?,
		updated_at = ? WHERE message_id = ? AND endpoint_id = ? AND status = 'pending' AND round = ?
			AND (NOT ? OR attempts = round_start)`

	_, err := s.db.ExecContext(ctx, query, f.Reason, micros(time.Now()), f.MessageID, f.EndpointID,
		f.Round, f.Untried)
	if err != nil {
		return fmt.Errorf("fail delivery: %w", err)
	}

	return nil
}

// DisableEndpoint disables the endpoint for reason and gives up every
// delivery to it still pending, in one transaction.
func (s *Store) DisableEndpoint(ctx context.Context, endpointID, reason string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		return disableEndpoint(ctx, tx, endpointID, reason)
	})
}

func disableEndpoint(ctx context.Context, tx *sql.Tx, endpointID, reason string) error {
	now := micros(time.Now())

	const disable = `UPDATE endpoints SET disabled = 1, disabled_reason = ?, updated_at = ?
		WHERE id = ?`
	if _, err := tx.ExecContext(ctx, disable, reason, now, endpointID); err != nil {
		return fmt.Errorf("disable endpoint: %w", err)
	}

	const fail = `UPDATE deliveries SET status = 'failed', next_attempt_at = NULL, reason = ?,
		updated_at = ? WHERE endpoint_id = ? AND status = 'pending'`
	if _, err := tx.ExecContext(ctx, fail, "endpoint disabled: "+reason, now, endpointID); err != nil {
		return fmt.Errorf("fail pending deliveries: %w", err)
	}

	return nil
}
