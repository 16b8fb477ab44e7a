package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/postgres"
	"github.com/heraldhq/herald/internal/signing"
	"github.com/heraldhq/herald/internal/store/storetest"
	"github.com/heraldhq/herald/internal/subscriptions"
	"github.com/heraldhq/herald/internal/testdb"
)

// The behavior every store shares is checked by the contract suite in
// contract_test.go. The tests here check what only PostgreSQL has: rows
// written behind the store's back, a store made without WithEnqueue, and
// what other connections see of a publishing transaction.

type testBundle struct {
	db    *testdb.DB
	store *postgres.Store
}

// setup returns a store, without an enqueue function, on a fresh schema.
func setup(t *testing.T) *testBundle {
	t.Helper()

	db := testdb.New(t)

	return &testBundle{db: db, store: postgres.New(db.Pool)}
}

// putAcme stores the tenant acme.
func (b *testBundle) putAcme(t *testing.T) {
	t.Helper()

	tenant, err := subscriptions.NewTenant("acme", subscriptions.TenantParams{Name: "Acme"})
	require.NoError(t, err)

	_, created, err := b.store.PutTenant(t.Context(), tenant)
	require.NoError(t, err)
	require.True(t, created)
}

// createEndpoint stores a new endpoint of the tenant acme that takes every
// event type.
func (b *testBundle) createEndpoint(t *testing.T) subscriptions.Endpoint {
	t.Helper()

	e, err := subscriptions.NewEndpoint("acme", subscriptions.EndpointParams{URL: "https://hooks.example.com/acme"})
	require.NoError(t, err)
	require.NoError(t, b.store.CreateEndpoint(t.Context(), e))

	return e
}

// newMessage returns a new message of the tenant acme with the event id
// evt-1.
func newMessage(t *testing.T) messages.Message {
	t.Helper()

	m, err := messages.New("acme", messages.Params{EventType: "invoice.paid", EventID: "evt-1", Payload: []byte("{}")}, 0)
	require.NoError(t, err)

	return m
}

const (
	countMessages   = "SELECT count(*) FROM messages WHERE id = $1"
	countDeliveries = "SELECT count(*) FROM deliveries WHERE message_id = $1"
)

// rowQuerier runs a query on a pool or in a transaction.
type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// countRows runs a count query of messageID on q.
func countRows(ctx context.Context, t *testing.T, q rowQuerier, query, messageID string) int {
	t.Helper()

	var n int
	require.NoError(t, q.QueryRow(ctx, query, messageID).Scan(&n))

	return n
}

// TestGetEndpointCorruptSecret reads back secrets that are not Herald's:
// the endpoint is an error, neither missing nor leaking the bad value.
func TestGetEndpointCorruptSecret(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putAcme(t)
	current := b.createEndpoint(t)
	previous := b.createEndpoint(t)

	_, err := b.db.Pool.Exec(t.Context(), "UPDATE endpoints SET secret = 'whsec_bad' WHERE id = $1", current.ID)
	require.NoError(t, err)

	_, err = b.db.Pool.Exec(t.Context(), `UPDATE endpoints SET previous_secrets =
		'[{"key": "nope", "expires_at": "2030-01-01T00:00:00Z"}]' WHERE id = $1`, previous.ID)
	require.NoError(t, err)

	for _, id := range []string{current.ID, previous.ID} {
		_, err = b.store.GetEndpoint(t.Context(), "acme", id)
		require.ErrorIs(t, err, signing.ErrInvalidSecret)
		require.NotErrorIs(t, err, subscriptions.ErrEndpointNotFound)
		require.NotContains(t, err.Error(), "nope")
	}
}

func TestPublishMessageWithoutEnqueue(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putAcme(t)
	b.createEndpoint(t)

	m := newMessage(t)

	_, err := b.store.PublishMessage(t.Context(), m)
	require.Error(t, err)
	require.Zero(t, countRows(t.Context(), t, b.db.Pool, countMessages, m.ID))

	// WithEnqueue returns a copy: the original still cannot publish.
	b.store.WithEnqueue(storetest.EnqueueFunc[pgx.Tx](func(context.Context, pgx.Tx, []messages.Ref) error { return nil }))

	_, err = b.store.PublishMessage(t.Context(), m)
	require.Error(t, err)
}

// TestPublishMessageInvisibleUntilCommit checks that the enqueue function
// runs in the publishing transaction: it sees the deliveries there, while
// another connection sees neither them nor the message until the commit.
func TestPublishMessageInvisibleUntilCommit(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putAcme(t)
	b.createEndpoint(t)
	b.createEndpoint(t)

	var inside, outside, messagesOutside int

	s := b.store.WithEnqueue(storetest.EnqueueFunc[pgx.Tx](func(ctx context.Context, tx pgx.Tx, refs []messages.Ref) error {
		messageID := refs[0].MessageID
		inside = countRows(ctx, t, tx, countDeliveries, messageID)
		outside = countRows(ctx, t, b.db.Pool, countDeliveries, messageID)
		messagesOutside = countRows(ctx, t, b.db.Pool, countMessages, messageID)

		return nil
	}))

	m := newMessage(t)

	published, err := s.PublishMessage(t.Context(), m)
	require.NoError(t, err)
	require.Equal(t, 2, published.Endpoints)

	require.Equal(t, 2, inside)
	require.Zero(t, outside)
	require.Zero(t, messagesOutside)

	require.Equal(t, 2, countRows(t.Context(), t, b.db.Pool, countDeliveries, m.ID))
}

// holdRow locks the rows query selects FOR UPDATE in a transaction of its
// own, until the returned function rolls it back.
func (b *testBundle) holdRow(t *testing.T, query string, args ...any) func() {
	t.Helper()

	tx, err := b.db.Pool.Begin(t.Context())
	require.NoError(t, err)

	_, err = tx.Exec(t.Context(), query+" FOR UPDATE", args...)
	require.NoError(t, err)

	var once sync.Once

	release := func() { once.Do(func() { _ = tx.Rollback(context.Background()) }) }
	t.Cleanup(release)

	return release
}

// TestBatchesDoNotWaitForLockedRows holds the rows a publish or a record
// of many needs, as a deletion of the tenant or endpoint would: those give
// up with ErrLocked instead of holding up the callers batched with them,
// while a publish of one waits for the row as long as it takes.
func TestBatchesDoNotWaitForLockedRows(t *testing.T) {
	t.Parallel()

	var (
		b     = setup(t)
		noop  = storetest.EnqueueFunc[pgx.Tx](func(context.Context, pgx.Tx, []messages.Ref) error { return nil })
		store = b.store.WithEnqueue(noop)
	)

	b.putAcme(t)
	e := b.createEndpoint(t)

	// Publishing, while the tenant's row is held.
	release := b.holdRow(t, "SELECT 1 FROM tenants WHERE id = 'acme'")

	_, err := store.PublishMessages(t.Context(), []messages.Message{newMessage(t)})
	require.ErrorIs(t, err, messages.ErrLocked)

	var (
		m    = newMessage(t)
		done = make(chan error, 1)
	)

	go func() {
		_, err := store.PublishMessage(context.Background(), m)
		done <- err
	}()

	select {
	case err := <-done:
		t.Fatalf("a publish of one did not wait for the row: %v", err)
	case <-time.After(500 * time.Millisecond):
	}

	release()
	require.NoError(t, <-done)

	// Recording, while the delivery's row is held.
	release = b.holdRow(t, "SELECT 1 FROM deliveries WHERE message_id = $1", m.ID)
	defer release()

	now := time.Now().UTC().Truncate(time.Microsecond)
	id, err := messages.NewAttemptID(now)
	require.NoError(t, err)

	a := messages.Attempt{ID: id, MessageID: m.ID, EndpointID: e.ID, Number: 1, StartedAt: now, Succeeded: true}
	err = store.RecordAttempts(t.Context(), []messages.Record{{Attempt: a, Status: messages.StatusSucceeded}}, nil)
	require.ErrorIs(t, err, messages.ErrLocked)
}
