package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/sqlite"
	"github.com/heraldhq/herald/internal/subscriptions"
)

func TestPublishRoundTrip(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")

	var (
		all      = b.addEndpoint(t, subscriptions.EndpointParams{})
		invoices = b.addEndpoint(t, subscriptions.EndpointParams{EventTypes: []string{"invoice.*"}})
		_        = b.addEndpoint(t, subscriptions.EndpointParams{EventTypes: []string{"customer.*"}})
		_        = b.addEndpoint(t, subscriptions.EndpointParams{Disabled: true})
	)

	var enqueued []string

	s := sqlite.New(b.db).WithEnqueue(func(ctx context.Context, tx *sql.Tx, id string, endpointIDs []string) error {
		// The deliveries are visible to the transaction, which the enqueue
		// function must use: the database has no other connection.
		var n int
		err := tx.QueryRowContext(ctx, "SELECT count(*) FROM deliveries WHERE message_id = ?", id).Scan(&n)
		require.NoError(t, err)
		require.Len(t, endpointIDs, n)

		enqueued = endpointIDs

		return nil
	})

	m := newMessage(t, "acme", "invoice.paid", "evt_1", `{"amount": 42}`)

	published, err := s.PublishMessage(t.Context(), m)
	require.NoError(t, err)
	require.Equal(t, messages.Published{Message: m, Endpoints: 2}, published)
	require.ElementsMatch(t, []string{all.ID, invoices.ID}, enqueued)

	got, deliveries, err := s.GetMessage(t.Context(), "acme", m.ID)
	require.NoError(t, err)
	require.Equal(t, m, got)
	require.Len(t, deliveries, 2)

	for _, d := range deliveries {
		require.Equal(t, messages.Delivery{
			MessageID: m.ID, EndpointID: d.EndpointID, Status: messages.StatusPending, UpdatedAt: m.CreatedAt,
		}, d)
	}

	_, _, err = s.GetMessage(t.Context(), "other", m.ID)
	require.ErrorIs(t, err, messages.ErrNotFound)
}

func TestPublishReplayAndConflict(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")
	b.addEndpoint(t, subscriptions.EndpointParams{})

	first := b.publish(t, "invoice.paid", "evt_1")

	again := newMessage(t, "acme", "invoice.paid", "evt_1", `{"n": 1}`)
	replayed, err := b.store.PublishMessage(t.Context(), again)
	require.NoError(t, err)
	require.Equal(t, messages.Published{Message: first.Message, Endpoints: 1, Replayed: true}, replayed)

	other := newMessage(t, "acme", "invoice.paid", "evt_1", `{"n": 2}`)
	_, err = b.store.PublishMessage(t.Context(), other)
	require.ErrorIs(t, err, messages.ErrConflict)

	// Messages without an event id never conflict.
	b.publish(t, "invoice.paid", "")
	b.publish(t, "invoice.paid", "")

	require.Equal(t, 3, b.count(t, "messages"))
	require.Equal(t, 3, b.count(t, "deliveries"))
}

func TestPublishUnknownTenant(t *testing.T) {
	t.Parallel()

	b := setup(t)

	_, err := b.store.PublishMessage(t.Context(), newMessage(t, "nobody", "a.b", "evt_1", `{}`))
	require.ErrorIs(t, err, subscriptions.ErrTenantNotFound)
}

// TestPublishEnqueueFails checks that the message, its deliveries and its
// jobs are stored together or not at all.
func TestPublishEnqueueFails(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")
	b.addEndpoint(t, subscriptions.EndpointParams{})

	errQueue := errors.New("queue is down")
	s := sqlite.New(b.db).WithEnqueue(func(ctx context.Context, tx *sql.Tx, _ string, _ []string) error {
		_, err := tx.ExecContext(ctx, "CREATE TABLE jobs (id INTEGER)")
		require.NoError(t, err)

		return errQueue
	})

	m := newMessage(t, "acme", "invoice.paid", "evt_1", `{}`)
	_, err := s.PublishMessage(t.Context(), m)
	require.ErrorIs(t, err, errQueue)

	_, _, err = s.GetMessage(t.Context(), "acme", m.ID)
	require.ErrorIs(t, err, messages.ErrNotFound)
	require.Zero(t, b.count(t, "deliveries"))

	_, err = b.db.ExecContext(t.Context(), "SELECT id FROM jobs")
	require.Error(t, err, "the enqueue function's writes are rolled back too")

	// The event id is still free.
	b.publish(t, "invoice.paid", "evt_1")
}

func TestPublishWithoutEnqueue(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")

	_, err := sqlite.New(b.db).PublishMessage(t.Context(), newMessage(t, "acme", "a.b", "", `{}`))
	require.Error(t, err)
	require.Zero(t, b.count(t, "messages"))
}
