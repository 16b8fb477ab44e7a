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
	const exists = "SELECT EXISTS (SELECT 1 FROM messages WHERE id = ? AND tenant_id = ?)"

	var found bool
	if err := s.db.QueryRowContext(ctx, exists, messageID, tenantID).Scan(&found); err != nil {
		return nil, fmt.Errorf("get message: %w", err)
	}

	if !found {
		return nil, messages.ErrNotFound
	}

	return attempts, nil
}

// ListEndpointAttempts returns at most limit attempts sent to the tenant's
// endpoint with id sorting before the given one, newest first, only those
// that succeeded or failed when succeeded is set, or
// [subscriptions.ErrEndpointNotFound].
func (s *Store) ListEndpointAttempts(
	ctx context.Context, tenantID, endpointID string, f messages.AttemptFilter, before string, limit int,
) ([]messages.Attempt, error) {
	const query = "SELECT " + attemptColumns + ` FROM attempts a
		JOIN endpoints e ON e.id = a.endpoint_id AND e.tenant_id = ?1
		WHERE a.endpoint_id = ?2 AND (?3 = '' OR a.id < ?3)
		AND (?4 IS NULL OR a.succeeded = ?4)
		ORDER BY a.id DESC LIMIT ?5`

	attempts, err := s.listAttempts(ctx, query, limit, tenantID, endpointID, before, f.Succeeded)
	if err != nil || len(attempts) > 0 {
		return attempts, err
	}

	if _, err := s.GetEndpoint(ctx, tenantID, endpointID); err != nil {
		return nil, err
	}

	return attempts, nil
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
