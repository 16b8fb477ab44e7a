package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

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
		JOIN messages m ON m.id = a.message_id AND m.tenant_id = ?1
		WHERE a.message_id = ?2 AND (?3 = '' OR a.id < ?3)
		ORDER BY a.id DESC LIMIT ?4`

	attempts, err := s.listAttempts(ctx, query, limit, tenantID, messageID, before)
	if err != nil || len(attempts) > 0 {
		return attempts, err
	}

	// An empty page needs telling apart from a missing message.
	if err := s.checkMessage(ctx, tenantID, messageID); err != nil {
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
	query, args := endpointAttemptsQuery(tenantID, endpointID, f, before)

	attempts, err := s.listAttempts(ctx, query, limit, args...)
	if err != nil || len(attempts) > 0 {
		return attempts, err
	}

	if _, err := s.GetEndpoint(ctx, tenantID, endpointID); err != nil {
		return nil, err
	}

	return attempts, nil
}

// endpointAttemptsQuery returns the query of [Store.ListEndpointAttempts]
// and its arguments, but for the page size, its last. A failed attempt is
// asked for as NOT a.succeeded, the very term of the partial index that
// finds failures.
func endpointAttemptsQuery(
	tenantID, endpointID string, f messages.AttemptFilter, before string,
) (string, []any) {
	var w where

	w.add("a.endpoint_id = ?", endpointID)

	if before != "" {
		w.add("a.id < ?", before)
	}

	if f.Succeeded != nil {
		if *f.Succeeded {
			w.add("a.succeeded")
		} else {
			w.add("NOT a.succeeded")
		}
	}

	if f.EventType != "" {
		w.add("EXISTS (SELECT 1 FROM messages m WHERE m.id = a.message_id AND m.event_type = ?)",
			f.EventType)
	}

	if !f.Since.IsZero() {
		w.add("a.id >= ?", messages.IDAt(attemptPrefix, f.Since))
	}

	if !f.Until.IsZero() {
		w.add("a.id < ?", messages.IDAt(attemptPrefix, f.Until))
	}

	query := "SELECT " + attemptColumns + ` FROM attempts a
		JOIN endpoints e ON e.id = a.endpoint_id AND e.tenant_id = ?
		WHERE ` + w.String() + " ORDER BY a.id DESC LIMIT ?"

	return query, append([]any{tenantID}, w.args...)
}

// listAttempts runs query with args followed by limit, the page size.
func (s *Store) listAttempts(ctx context.Context, query string, limit int, args ...any) ([]messages.Attempt, error) {
	if err := checkLimit(limit); err != nil {
		return nil, fmt.Errorf("list attempts: %w", err)
	}

	attempts, err := queryAll(ctx, s.db, scanAttempt, query, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list attempts: %w", err)
	}

	return attempts, nil
}

func scanAttempt(row scanner) (messages.Attempt, error) {
	var (
		a          messages.Attempt
		durationUS int64
		status     sql.NullInt64
	)

	err := row.Scan(&a.ID, &a.MessageID, &a.EndpointID, &a.Number, timeColumn{&a.StartedAt},
		&durationUS, &status, bytesColumn{&a.ResponseBody}, &a.Error, &a.Succeeded,
		timeColumn{&a.NextAttemptAt})
	if err != nil {
		return messages.Attempt{}, err
	}

	a.Duration = time.Duration(durationUS) * time.Microsecond
	a.StatusCode = int(status.Int64)

	return a, nil
}
