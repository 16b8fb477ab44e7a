package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/subscriptions"
)

// EndpointHealth returns how the tenant's endpoint is doing: its breaker
// state as last recorded, and what its newest [messages.HealthWindow]
// attempts tell, or [subscriptions.ErrEndpointNotFound].
func (s *Store) EndpointHealth(
	ctx context.Context, tenantID, endpointID string,
) (messages.Health, error) {
	// The window is read once from the endpoint's index on (endpoint_id,
	// id), newest first; the newest success in it bounds the streak.
	const query = `WITH w AS (
			SELECT a.id, a.started_at, a.succeeded FROM attempts a
			WHERE a.endpoint_id = ?1 ORDER BY a.id DESC LIMIT ?3
		), success AS (
			SELECT id, started_at FROM w WHERE succeeded ORDER BY id DESC LIMIT 1
		)
		SELECT e.breaker_state, e.breaker_changed_at,
			(SELECT started_at FROM w ORDER BY id DESC LIMIT 1),
			(SELECT started_at FROM success),
			(SELECT count(*) FROM w WHERE id > COALESCE((SELECT id FROM success), ''))
		FROM endpoints e WHERE e.id = ?1 AND e.tenant_id = ?2`

	var h messages.Health

	err := s.db.QueryRowContext(ctx, query, endpointID, tenantID, messages.HealthWindow).Scan(
		&h.BreakerState, timeColumn{&h.BreakerChangedAt}, timeColumn{&h.LastAttemptAt},
		timeColumn{&h.LastSuccessAt}, &h.FailureStreak)
	if errors.Is(err, sql.ErrNoRows) {
		return messages.Health{}, subscriptions.ErrEndpointNotFound
	}

	if err != nil {
		return messages.Health{}, fmt.Errorf("read endpoint health: %w", err)
	}

	return h, nil
}

// RecordBreakerState records that the endpoint's circuit breaker changed
// to state at the given time, unless a later change is on record already.
// An endpoint deleted meanwhile is no error: there is nothing left to
// record.
func (s *Store) RecordBreakerState(ctx context.Context, endpointID, state string, at time.Time) error {
	const query = `UPDATE endpoints SET breaker_state = ?1, breaker_changed_at = ?2
		WHERE id = ?3 AND (breaker_changed_at IS NULL OR breaker_changed_at <= ?2)`

	if _, err := s.db.ExecContext(ctx, query, state, micros(at), endpointID); err != nil {
		return fmt.Errorf("record breaker state: %w", err)
	}

	return nil
}
