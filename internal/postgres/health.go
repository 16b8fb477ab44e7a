package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/subscriptions"
)

// healthQuery reads the endpoint's breaker state and the start times and
// outcomes of its newest attempts, newest first: the newest success is the
// first true outcome, and the failures before it are the current streak.
// As in ListEndpointAttempts, the endpoint bounds a range of
// (endpoint_id, id), so that only the endpoint's index can serve the order.
const healthQuery = `SELECT e.breaker_state, e.breaker_changed_at, h.started[1],
		h.started[array_position(h.succeeded, true)],
		COALESCE(array_position(h.succeeded, true) - 1, cardinality(h.succeeded), 0)
	FROM endpoints e, (
		SELECT array_agg(r.started_at ORDER BY r.id DESC) AS started,
			array_agg(r.succeeded ORDER BY r.id DESC) AS succeeded
		FROM (
			SELECT a.id, a.started_at, a.succeeded FROM attempts a
			WHERE (a.endpoint_id, a.id) >= ($1, '') AND a.endpoint_id <= $1
			ORDER BY a.endpoint_id DESC, a.id DESC LIMIT $3
		) r
	) h
	WHERE e.id = $1 AND e.tenant_id = $2`

// EndpointHealth returns the breaker state of the tenant's endpoint and
// what its newest [messages.HealthWindow] attempts say, in one query, or
// [subscriptions.ErrEndpointNotFound].
func (s *Store) EndpointHealth(ctx context.Context, tenantID, endpointID string) (messages.Health, error) {
	var (
		h                                   messages.Health
		changedAt, lastAttempt, lastSuccess *time.Time
	)

	row := s.pool.QueryRow(ctx, healthQuery, endpointID, tenantID, messages.HealthWindow)

	err := row.Scan(&h.BreakerState, &changedAt, &lastAttempt, &lastSuccess, &h.FailureStreak)
	if errors.Is(err, pgx.ErrNoRows) {
		return messages.Health{}, subscriptions.ErrEndpointNotFound
	}

	if err != nil {
		return messages.Health{}, fmt.Errorf("read endpoint health: %w", err)
	}

	h.BreakerChangedAt = utc(changedAt)
	h.LastAttemptAt = utc(lastAttempt)
	h.LastSuccessAt = utc(lastSuccess)

	return h, nil
}

// RecordBreakerState notes that the endpoint's circuit breaker changed to
// state at the given time, unless a later change is on record already:
// each worker reports its own breakers. An endpoint deleted meanwhile is
// no error. The endpoint's updated_at stays: it is when the endpoint was
// last edited.
func (s *Store) RecordBreakerState(ctx context.Context, endpointID, state string, at time.Time) error {
	const query = `UPDATE endpoints SET breaker_state = $2, breaker_changed_at = $3
		WHERE id = $1 AND (breaker_changed_at IS NULL OR breaker_changed_at <= $3)`

	if _, err := s.pool.Exec(ctx, query, endpointID, state, at); err != nil {
		return fmt.Errorf("record breaker state: %w", err)
	}

	return nil
}

// utc returns *t in UTC, or the zero time when t is nil.
func utc(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}

	return t.UTC()
}
