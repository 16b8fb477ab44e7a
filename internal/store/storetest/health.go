package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/subscriptions"
)

// The states of a circuit breaker; it is closed until its endpoint fails.
const (
	breakerClosed   = "closed"
	breakerOpen     = "open"
	breakerHalfOpen = "half-open"
)

func (s suite) health(t *testing.T) {
	t.Parallel()

	t.Run("no attempts", s.healthNoAttempts)
	t.Run("failures since the last success", s.healthFailureStreak)
	t.Run("a success ends the streak", s.healthStreakReset)
	t.Run("only failures", s.healthOnlyFailures)
	t.Run("read from the newest attempts only", s.healthWindow)
	t.Run("breaker state recorded", s.healthBreakerState)
	t.Run("breaker state of a missing endpoint", s.recordBreakerStateNotFound)
	t.Run("missing endpoint", s.healthNotFound)
}

// health returns the health of the tenant acme's endpoint.
func (b *bundle) health(t *testing.T, endpointID string) messages.Health {
	t.Helper()

	h, err := b.Store.EndpointHealth(t.Context(), acme, endpointID)
	require.NoError(t, err)

	return h
}

func (s suite) healthNoAttempts(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)
	e := b.createEndpoint(t, acme)
	b.message(t) // a delivery, still without an attempt

	require.Equal(t, messages.Health{BreakerState: breakerClosed}, b.health(t, e.ID))
}

// healthFailureStreak counts the failures after the newest success, and
// only those of the endpoint.
func (s suite) healthFailureStreak(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)

	var (
		e         = b.createEndpoint(t, acme)
		elsewhere = b.createEndpoint(t, acme)
		m1        = b.message(t)
		m2        = b.message(t)
	)

	b.record(t, attemptAt(t, m1.ID, e.ID, 0))
	b.record(t, succeeded(attemptAt(t, m2.ID, e.ID, 10)))
	ok := b.record(t, succeeded(attemptAt(t, m1.ID, e.ID, 20)))
	b.record(t, attemptAt(t, m2.ID, e.ID, 30))
	last := b.record(t, attemptAt(t, m1.ID, e.ID, 40))

	// A newer success elsewhere changes nothing.
	b.record(t, succeeded(attemptAt(t, m1.ID, elsewhere.ID, 50)))

	require.Equal(t, messages.Health{
		BreakerState:  breakerClosed,
		LastAttemptAt: last.StartedAt,
		LastSuccessAt: ok.StartedAt,
		FailureStreak: 2,
	}, b.health(t, e.ID))
}

func (s suite) healthStreakReset(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)
	e := b.createEndpoint(t, acme)
	m := b.message(t)

	for n := range 3 {
		b.record(t, attemptAt(t, m.ID, e.ID, n*10))
	}

	require.Equal(t, 3, b.health(t, e.ID).FailureStreak)

	ok := b.record(t, succeeded(attemptAt(t, m.ID, e.ID, 30)))

	require.Equal(t, messages.Health{
		BreakerState:  breakerClosed,
		LastAttemptAt: ok.StartedAt,
		LastSuccessAt: ok.StartedAt,
	}, b.health(t, e.ID))
}

func (s suite) healthOnlyFailures(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)
	e := b.createEndpoint(t, acme)
	m := b.message(t)

	b.record(t, attemptAt(t, m.ID, e.ID, 0))
	last := b.record(t, attemptAt(t, m.ID, e.ID, 10))

	require.Equal(t, messages.Health{
		BreakerState:  breakerClosed,
		LastAttemptAt: last.StartedAt,
		FailureStreak: 2,
	}, b.health(t, e.ID))
}

// healthWindow puts a success just behind the newest HealthWindow
// failures: health no longer sees it, and counts the streak up to the
// window.
func (s suite) healthWindow(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)
	e := b.createEndpoint(t, acme)
	m := b.message(t)

	b.record(t, succeeded(attemptAt(t, m.ID, e.ID, 0)))

	var last messages.Attempt
	for n := range messages.HealthWindow {
		last = b.record(t, attemptAt(t, m.ID, e.ID, n+1))
	}

	require.Equal(t, messages.Health{
		BreakerState:  breakerClosed,
		LastAttemptAt: last.StartedAt,
		FailureStreak: messages.HealthWindow,
	}, b.health(t, e.ID))
}

// healthBreakerState records the changes of the breaker: health shows the
// latest, and the endpoint itself is not edited by them.
func (s suite) healthBreakerState(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)

	var (
		e         = b.createEndpoint(t, acme)
		untouched = b.createEndpoint(t, acme)
		opened    = time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC)
	)

	require.NoError(t, b.Store.RecordBreakerState(t.Context(), e.ID, breakerOpen, opened))
	require.Equal(t, messages.Health{BreakerState: breakerOpen, BreakerChangedAt: opened}, b.health(t, e.ID))

	// A time in another zone reads back in UTC.
	probing := opened.Add(30 * time.Second)
	cet := time.FixedZone("CET", 3600)
	require.NoError(t, b.Store.RecordBreakerState(t.Context(), e.ID, breakerHalfOpen, probing.In(cet)))
	require.Equal(t, messages.Health{BreakerState: breakerHalfOpen, BreakerChangedAt: probing}, b.health(t, e.ID))

	recovered := probing.Add(time.Second)
	require.NoError(t, b.Store.RecordBreakerState(t.Context(), e.ID, breakerClosed, recovered))
	require.Equal(t, messages.Health{BreakerState: breakerClosed, BreakerChangedAt: recovered}, b.health(t, e.ID))

	// Several workers report changes; one reported late never hides a
	// newer one.
	require.NoError(t, b.Store.RecordBreakerState(t.Context(), e.ID, breakerOpen, probing))
	require.Equal(t, messages.Health{BreakerState: breakerClosed, BreakerChangedAt: recovered}, b.health(t, e.ID))

	got, err := b.Store.GetEndpoint(t.Context(), acme, e.ID)
	require.NoError(t, err)
	require.Equal(t, e, got)

	require.Equal(t, messages.Health{BreakerState: breakerClosed}, b.health(t, untouched.ID))
}

// recordBreakerStateNotFound reports a breaker change of an endpoint
// deleted meanwhile, which is no error: a worker may still hold its
// breaker.
func (s suite) recordBreakerStateNotFound(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)
	e := b.createEndpoint(t, acme)
	require.NoError(t, b.Store.DeleteEndpoint(t.Context(), acme, e.ID))

	for _, id := range []string{e.ID, unknownEndpoint} {
		require.NoError(t, b.Store.RecordBreakerState(t.Context(), id, breakerOpen, epoch), id)
	}

	_, err := b.Store.EndpointHealth(t.Context(), acme, e.ID)
	require.ErrorIs(t, err, subscriptions.ErrEndpointNotFound)
}

func (s suite) healthNotFound(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)
	b.putTenant(t, other)
	e := b.createEndpoint(t, acme)
	b.record(t, attemptAt(t, b.message(t).ID, e.ID, 0))

	for _, tt := range missing(e.ID, unknownEndpoint) {
		got, err := b.Store.EndpointHealth(t.Context(), tt.tenantID, tt.id)
		require.ErrorIs(t, err, subscriptions.ErrEndpointNotFound, tt.name)
		require.Equal(t, messages.Health{}, got, tt.name)
	}
}
