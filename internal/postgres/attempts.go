package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/heraldhq/herald/internal/messages"
)

const attemptColumns = `a.id, a.message_id, a.endpoint_id, a.attempt, a.started_at, a.duration_us,
	a.status_code, a.response_body, a.error, a.succeeded, a.next_attempt_at`

// ListMessageAttempts returns at most limit attempts of the tenant's
// message with id sorting before the given one, newest first, or
// [messages.ErrNotFound].
func (s *Store) ListMessageAttempts(
	ctx context.Context, tenantID, messageID, before string, limit int,
) ([]messages.Attempt, error) {
	const query = "SELECT " + attemptColumns + ` FROM attempts a
		JOIN messages m ON m.id = a.message_id AND m.tenant_id = $1
		WHERE a.message_id = $2 AND ($3 = '' OR a.id < $3)
		ORDER BY a.id DESC LIMIT $4`

	attempts, err := s.listAttempts(ctx, query, tenantID, messageID, before, limit)
	if err != nil || len(attempts) > 0 {
		return attempts, err
	}

	// An empty page needs telling apart from a missing message.
	if _, err := messageEventType(ctx, s.pool, tenantID, messageID); err != nil {
		return nil, err
	}

	return attempts, nil
}

// ListEndpointAttempts returns at most limit attempts sent to the tenant's
// endpoint with id sorting before the given one, newest first, narrowed by
// f, or [subscriptions.ErrEndpointNotFound].
func (s *Store) ListEndpointAttempts(
	ctx context.Context, tenantID, endpointID string, f messages.AttemptFilter, before string, limit int,
) ([]messages.Attempt, error) {
	var w where

	w.add("EXISTS (SELECT 1 FROM endpoints e WHERE e.id = ? AND e.tenant_id = ?)", endpointID, tenantID)

	// The endpoint and the window bound a range of (endpoint_id, id), and
	// the order names both columns, so that only the indexes on them serve
	// the listing. With endpoint_id = $n the planner may instead walk the
	// primary key back through every endpoint's attempts, which takes
	// seconds when the endpoint has nothing recent to show.
	lower, upper := idRange(attemptPrefix, f.Since, f.Until, before)
	w.add("(a.endpoint_id, a.id) >= (?, ?)", endpointID, lower)

	if upper != "" {
		w.add("(a.endpoint_id, a.id) < (?, ?)", endpointID, upper)
	} else {
		w.add("a.endpoint_id <= ?", endpointID)
	}

	// Said literally, NOT a.succeeded lets the partial index of failed
	// attempts serve the listing.
	switch {
	case f.Succeeded == nil:
	case *f.Succeeded:
		w.add("a.succeeded")
	default:
		w.add("NOT a.succeeded")
	}

	from := "attempts a"
	if f.EventType != "" {
		from += " JOIN messages m ON m.id = a.message_id"
		w.add("m.event_type = ?", f.EventType)
	}

	query := "SELECT " + attemptColumns + " FROM " + from + `
		WHERE ` + w.String() + `
		ORDER BY a.endpoint_id DESC, a.id DESC LIMIT ` + w.arg(limit)

	attempts, err := s.listAttempts(ctx, query, w.args...)
	if err != nil || len(attempts) > 0 {
		return attempts, err
	}

	if _, err := s.GetEndpoint(ctx, tenantID, endpointID); err != nil {
		return nil, err
	}

	return attempts, nil
}

func (s *Store) listAttempts(ctx context.Context, query string, args ...any) ([]messages.Attempt, error) {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list attempts: %w", err)
	}

	attempts, err := pgx.CollectRows(rows, scanAttempt)
	if err != nil {
		return nil, fmt.Errorf("list attempts: %w", err)
	}

	return attempts, nil
}

func scanAttempt(row pgx.CollectableRow) (messages.Attempt, error) {
	var (
		a          messages.Attempt
		durationUS int64
		status     *int
		next       *time.Time
	)

	err := row.Scan(&a.ID, &a.MessageID, &a.EndpointID, &a.Number, &a.StartedAt, &durationUS,
		&status, &a.ResponseBody, &a.Error, &a.Succeeded, &next)
	if err != nil {
		return messages.Attempt{}, err //nolint:wrapcheck // wrapped by the caller
	}

	a.StartedAt = a.StartedAt.UTC()
	a.Duration = time.Duration(durationUS) * time.Microsecond

	if status != nil {
		a.StatusCode = *status
	}

	if next != nil {
		a.NextAttemptAt = next.UTC()
	}

	return a, nil
}

// loadTargetsQuery reads what deliveries need, for a list of their keys.
// It is built once: every delivery runs it.
//
// Each key looks up its delivery by primary key in a subquery of its own,
// which LIMIT keeps the planner from merging into a join. As a join, the
// plan cached for the prepared statement may be one made while the table
// was nearly empty, which then reads the whole table for every batch.
var loadTargetsQuery = `SELECT d.message_id, d.endpoint_id, d.tenant_id, d.event_type, d.status,
	d.attempts, d.next_attempt_at, d.round, d.round_start, m.payload, ` + prefixed("e.", endpointColumns) + `
	FROM unnest($1::text[], $2::text[]) AS k(message_id, endpoint_id)
	CROSS JOIN LATERAL (
		SELECT d.message_id, d.endpoint_id, d.tenant_id, d.event_type, d.status, d.attempts,
			d.next_attempt_at, d.round, d.round_start
		FROM deliveries d
		WHERE d.message_id = k.message_id AND d.endpoint_id = k.endpoint_id LIMIT 1
	) d
	JOIN messages m ON m.id = d.message_id
	JOIN endpoints e ON e.id = d.endpoint_id`

// LoadTarget reads the delivery of message to endpoint with its payload and
// endpoint in one query, or returns [messages.ErrNotFound] when the
// delivery is gone (its message or endpoint was deleted).
func (s *Store) LoadTarget(ctx context.Context, messageID, endpointID string) (messages.Target, error) {
	key := messages.DeliveryKey{MessageID: messageID, EndpointID: endpointID}

	targets, err := s.LoadTargets(ctx, []messages.DeliveryKey{key})
	if err != nil {
		return messages.Target{}, err
	}

	t, ok := targets[key]
	if !ok {
		return messages.Target{}, messages.ErrNotFound
	}

	return t, nil
}

// LoadTargets reads the deliveries of keys with their payloads and
// endpoints in one query. A delivery that is gone is missing from the map.
func (s *Store) LoadTargets(
	ctx context.Context, keys []messages.DeliveryKey,
) (map[messages.DeliveryKey]messages.Target, error) {
	messageIDs := make([]string, len(keys))
	endpointIDs := make([]string, len(keys))

	for i, k := range keys {
		messageIDs[i], endpointIDs[i] = k.MessageID, k.EndpointID
	}

	rows, err := s.pool.Query(ctx, loadTargetsQuery, messageIDs, endpointIDs)
	if err != nil {
		return nil, fmt.Errorf("load deliveries: %w", err)
	}
	defer rows.Close()

	targets := make(map[messages.DeliveryKey]messages.Target, len(keys))

	for rows.Next() {
		var (
			t    messages.Target
			d    = &t.Delivery
			next *time.Time
		)

		t.Endpoint, err = scanEndpointAfter(rows, &d.MessageID, &d.EndpointID, &d.TenantID,
			&d.EventType, &d.Status, &d.Attempts, &next, &d.Round, &d.RoundStart, &t.Payload)
		if err != nil {
			return nil, fmt.Errorf("load deliveries: %w", err)
		}

		if next != nil {
			d.NextAttemptAt = next.UTC()
		}

		targets[d.Key()] = t
	}

	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load deliveries: %w", err)
	}

	return targets, nil
}

// RecordAttempt stores a and, while a's round is the delivery's current
// one, sets the delivery's state, in one statement. reason says why a
// failed delivery was given up.
func (s *Store) RecordAttempt(ctx context.Context, a messages.Attempt, status messages.Status, reason string) error {
	return recordAttempt(ctx, s.pool, messages.Record{Attempt: a, Status: status, Reason: reason})
}

// RecordAttempts stores the attempts of records and sets the states of
// their deliveries as [Store.RecordAttempt] does, one statement each, all
// sent at once, and queues the delivery jobs of refs, in one transaction.
// The store must have been made by [Store.WithEnqueue] to queue jobs. It
// returns [messages.ErrNotFound] when the delivery of a lone record is
// gone, and [messages.ErrLocked] when a delivery's row stays locked by
// another transaction (its endpoint being disabled or deleted) for longer
// than a batch of many deliveries' records may wait.
func (s *Store) RecordAttempts(ctx context.Context, records []messages.Record, refs []messages.Ref) error {
	if len(refs) > 0 && s.enqueue == nil {
		return errors.New("record attempts: the store cannot enqueue jobs")
	}

	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := sendRecords(ctx, tx, records); err != nil {
			return err
		}

		if len(refs) == 0 {
			return nil
		}

		if err := s.enqueue.EnqueueDeliveries(ctx, tx, refs); err != nil {
			return fmt.Errorf("enqueue deliveries: %w", err)
		}

		return nil
	})

	return locked(err)
}

// sendRecords runs recordAttemptQuery for each record in tx, all sent at
// once, after setting the transaction's lockTimeout.
func sendRecords(ctx context.Context, tx pgx.Tx, records []messages.Record) error {
	if len(records) == 0 {
		return nil
	}

	var b pgx.Batch

	b.Queue(lockTimeout)

	for _, r := range records {
		b.Queue(recordAttemptQuery, recordArgs(r)...)
	}

	err := tx.SendBatch(ctx, &b).Close()
	if isForeignKeyViolation(err) && len(records) == 1 {
		return messages.ErrNotFound // the delivery was deleted
	}

	if err != nil {
		return fmt.Errorf("record attempts: %w", err)
	}

	return nil
}

// recordAttemptQuery inserts an attempt and, while its round is current,
// updates its delivery. Each looks up one row by its key, so the plan
// cached for it holds however the tables grow.
const recordAttemptQuery = `WITH attempt AS (
		INSERT INTO attempts (id, message_id, endpoint_id, attempt, started_at, duration_us,
			status_code, response_body, error, succeeded, next_attempt_at)
		VALUES ($1, $2, $3, $4, $5, $6, NULLIF($7, 0), COALESCE($8, ''::bytea), $9, $10, $11)
	)
	UPDATE deliveries SET status = $12, attempts = $4, next_attempt_at = $11, reason = $13,
		updated_at = $5::timestamptz + make_interval(secs => $6::bigint / 1e6)
	WHERE message_id = $2 AND endpoint_id = $3 AND round = $14`

func recordAttempt(ctx context.Context, db execer, r messages.Record) error {
	if _, err := db.Exec(ctx, recordAttemptQuery, recordArgs(r)...); err != nil {
		return fmt.Errorf("record attempt: %w", err)
	}

	return nil
}

// recordArgs returns the arguments of recordAttemptQuery for r.
func recordArgs(r messages.Record) []any {
	a := r.Attempt

	var next *time.Time
	if !a.NextAttemptAt.IsZero() {
		next = &a.NextAttemptAt
	}

	return []any{
		a.ID, a.MessageID, a.EndpointID, a.Number, a.StartedAt, a.Duration.Microseconds(),
		a.StatusCode, a.ResponseBody, a.Error, a.Succeeded, next, string(r.Status), r.Reason, a.Round,
	}
}

// RecordGone stores a, the attempt answered 410 Gone, fails its delivery,
// disables the endpoint for reason and fails every delivery to it still
// pending, all in one transaction: either the endpoint is disabled with
// its attempt on record, or nothing changed and the job can try again.
func (s *Store) RecordGone(ctx context.Context, a messages.Attempt, reason string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		r := messages.Record{Attempt: a, Status: messages.StatusFailed, Reason: reason}
		if err := recordAttempt(ctx, tx, r); err != nil {
			return err
		}

		return disableEndpoint(ctx, tx, a.EndpointID, reason)
	})
}

// FailDelivery gives up the delivery f names, without an attempt, for its
// reason, when it is in the state f says.
func (s *Store) FailDelivery(ctx context.Context, f messages.Failure) error {
	const query = `UPDATE deliveries SET status = 'failed', next_attempt_at = NULL, reason = $3, updated_at = now()
		WHERE message_id = $1 AND endpoint_id = $2 AND status = 'pending' AND round = $4
			AND (NOT $5 OR attempts = round_start)`

	_, err := s.pool.Exec(ctx, query, f.MessageID, f.EndpointID, f.Reason, f.Round, f.Untried)
	if err != nil {
		return fmt.Errorf("fail delivery: %w", err)
	}

	return nil
}

// DisableEndpoint disables the endpoint for reason and gives up every
// delivery to it still pending, in one transaction.
func (s *Store) DisableEndpoint(ctx context.Context, endpointID, reason string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		return disableEndpoint(ctx, tx, endpointID, reason)
	})
}

func disableEndpoint(ctx context.Context, tx pgx.Tx, endpointID, reason string) error {
	const disable = `UPDATE endpoints SET disabled = true, disabled_reason = $2, updated_at = now()
		WHERE id = $1`
	if _, err := tx.Exec(ctx, disable, endpointID, reason); err != nil {
		return fmt.Errorf("disable endpoint: %w", err)
	}

	const fail = `UPDATE deliveries SET status = 'failed', next_attempt_at = NULL, reason = $2,
		updated_at = now() WHERE endpoint_id = $1 AND status = 'pending'`
	if _, err := tx.Exec(ctx, fail, endpointID, "endpoint disabled: "+reason); err != nil {
		return fmt.Errorf("fail pending deliveries: %w", err)
	}

	return nil
}

// execer runs a statement on a pool or in a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}
