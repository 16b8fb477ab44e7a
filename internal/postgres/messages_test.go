package postgres_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/subscriptions"
)

// enqueueCall is one call of an [enqueueRecorder].
type enqueueCall struct {
	messageID   string
	endpointIDs []string
}

// enqueueRecorder is an enqueue function that records its calls. It fails
// with err when err is set, and runs inTx, when set, inside the publishing
// transaction.
type enqueueRecorder struct {
	err  error
	inTx func(ctx context.Context, tx pgx.Tx, messageID string)

	mu    sync.Mutex
	calls []enqueueCall
}

func (r *enqueueRecorder) enqueue(ctx context.Context, tx pgx.Tx, messageID string, endpointIDs []string) error {
	if r.inTx != nil {
		r.inTx(ctx, tx, messageID)
	}

	r.mu.Lock()
	defer r.mu.Unlock()

	r.calls = append(r.calls, enqueueCall{messageID: messageID, endpointIDs: slices.Clone(endpointIDs)})

	return r.err
}

func (r *enqueueRecorder) recorded() []enqueueCall {
	r.mu.Lock()
	defer r.mu.Unlock()

	return slices.Clone(r.calls)
}

// addEndpoint stores a new endpoint of the tenant made from params; the
// URL defaults to one on example.com.
func (b *testBundle) addEndpoint(t *testing.T, tenantID string, params subscriptions.EndpointParams) subscriptions.Endpoint {
	t.Helper()

	if params.URL == "" {
		params.URL = "https://hooks.example.com/" + tenantID
	}

	e, err := subscriptions.NewEndpoint(tenantID, params)
	require.NoError(t, err)
	require.NoError(t, b.store.CreateEndpoint(t.Context(), e))

	return e
}

// newMessage returns a message of the tenant.
func newMessage(t *testing.T, tenantID, eventType, eventID, payload string) messages.Message {
	t.Helper()

	m, err := messages.New(tenantID, messages.Params{
		EventType: eventType,
		EventID:   eventID,
		Payload:   []byte(payload),
	}, 0)
	require.NoError(t, err)

	return m
}

// publish publishes m through a store whose enqueue does nothing.
func (b *testBundle) publish(t *testing.T, m messages.Message) messages.Published {
	t.Helper()

	p, err := b.store.WithEnqueue((&enqueueRecorder{}).enqueue).PublishMessage(t.Context(), m)
	require.NoError(t, err)
	require.False(t, p.Replayed)

	return p
}

// countRows returns the number of rows of a table matching a condition on
// message_id.
func (b *testBundle) countRows(t *testing.T, query, messageID string) int {
	t.Helper()

	var n int
	require.NoError(t, b.db.Pool.QueryRow(t.Context(), query, messageID).Scan(&n))

	return n
}

const (
	countMessages   = "SELECT count(*) FROM messages WHERE id = $1"
	countDeliveries = "SELECT count(*) FROM deliveries WHERE message_id = $1"
)

func TestPublishMessage(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")
	b.putTenant(t, "other")

	var (
		all      = b.addEndpoint(t, "acme", subscriptions.EndpointParams{})
		star     = b.addEndpoint(t, "acme", subscriptions.EndpointParams{EventTypes: []string{"*"}})
		prefix   = b.addEndpoint(t, "acme", subscriptions.EndpointParams{EventTypes: []string{"invoice.*"}})
		exact    = b.addEndpoint(t, "acme", subscriptions.EndpointParams{EventTypes: []string{"customer.created", "invoice.paid"}})
		elsewise = b.addEndpoint(t, "acme", subscriptions.EndpointParams{EventTypes: []string{"customer.*", "invoice.failed"}})
		disabled = b.addEndpoint(t, "acme", subscriptions.EndpointParams{Disabled: true, DisabledReason: "paused"})
		foreign  = b.addEndpoint(t, "other", subscriptions.EndpointParams{})
	)

	want := []string{all.ID, star.ID, prefix.ID, exact.ID}
	slices.Sort(want)

	m := newMessage(t, "acme", "invoice.paid", "evt-1", `{"invoice_id": "inv_1"}`)

	// Inside the transaction the deliveries are there; outside, not yet.
	var inside, outside, messagesOutside int

	rec := &enqueueRecorder{inTx: func(ctx context.Context, tx pgx.Tx, messageID string) {
		require.NoError(t, tx.QueryRow(ctx, countDeliveries, messageID).Scan(&inside))
		require.NoError(t, b.db.Pool.QueryRow(ctx, countDeliveries, messageID).Scan(&outside))
		require.NoError(t, b.db.Pool.QueryRow(ctx, countMessages, messageID).Scan(&messagesOutside))
	}}

	published, err := b.store.WithEnqueue(rec.enqueue).PublishMessage(t.Context(), m)
	require.NoError(t, err)
	require.Equal(t, messages.Published{Message: m, Endpoints: 4}, published)

	require.Equal(t, []enqueueCall{{messageID: m.ID, endpointIDs: want}}, rec.recorded())
	require.Equal(t, 4, inside)
	require.Zero(t, outside)
	require.Zero(t, messagesOutside)

	got, deliveries, err := b.store.GetMessage(t.Context(), "acme", m.ID)
	require.NoError(t, err)
	require.Equal(t, m, got)

	wantDeliveries := make([]messages.Delivery, len(want))
	for i, id := range want {
		wantDeliveries[i] = messages.Delivery{
			MessageID:  m.ID,
			EndpointID: id,
			Status:     messages.StatusPending,
			UpdatedAt:  m.CreatedAt,
		}
	}

	require.Equal(t, wantDeliveries, deliveries)

	for _, e := range []subscriptions.Endpoint{elsewise, disabled, foreign} {
		require.NotContains(t, want, e.ID)
	}
}

func TestPublishMessageToNoEndpoint(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")
	b.addEndpoint(t, "acme", subscriptions.EndpointParams{EventTypes: []string{"customer.*"}})
	b.addEndpoint(t, "acme", subscriptions.EndpointParams{Disabled: true})

	rec := &enqueueRecorder{}
	m := newMessage(t, "acme", "invoice.paid", "", `{}`)

	published, err := b.store.WithEnqueue(rec.enqueue).PublishMessage(t.Context(), m)
	require.NoError(t, err)
	require.Equal(t, messages.Published{Message: m}, published)

	// Nothing to queue, but the message is kept.
	require.Empty(t, rec.recorded())

	got, deliveries, err := b.store.GetMessage(t.Context(), "acme", m.ID)
	require.NoError(t, err)
	require.Equal(t, m, got)
	require.Empty(t, deliveries)
}

func TestPublishMessageWithoutEnqueue(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")
	b.addEndpoint(t, "acme", subscriptions.EndpointParams{})

	m := newMessage(t, "acme", "invoice.paid", "evt-1", `{}`)

	_, err := b.store.PublishMessage(t.Context(), m)
	require.Error(t, err)
	require.Zero(t, b.countRows(t, countMessages, m.ID))

	// WithEnqueue returns a copy: the original still cannot publish.
	b.store.WithEnqueue((&enqueueRecorder{}).enqueue)

	_, err = b.store.PublishMessage(t.Context(), m)
	require.Error(t, err)
}

func TestPublishMessageEnqueueFails(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")
	b.addEndpoint(t, "acme", subscriptions.EndpointParams{})

	errQueue := errors.New("queue is down")
	rec := &enqueueRecorder{err: errQueue}
	m := newMessage(t, "acme", "invoice.paid", "evt-1", `{}`)

	_, err := b.store.WithEnqueue(rec.enqueue).PublishMessage(t.Context(), m)
	require.ErrorIs(t, err, errQueue)
	require.Len(t, rec.recorded(), 1)

	// Everything was rolled back: the event id is free again.
	require.Zero(t, b.countRows(t, countMessages, m.ID))
	require.Zero(t, b.countRows(t, countDeliveries, m.ID))

	_, _, err = b.store.GetMessage(t.Context(), "acme", m.ID)
	require.ErrorIs(t, err, messages.ErrNotFound)

	published := b.publish(t, newMessage(t, "acme", "invoice.paid", "evt-1", `{}`))
	require.Equal(t, 1, published.Endpoints)
}

func TestPublishMessageReplay(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")
	b.addEndpoint(t, "acme", subscriptions.EndpointParams{})
	b.addEndpoint(t, "acme", subscriptions.EndpointParams{EventTypes: []string{"invoice.*"}})

	rec := &enqueueRecorder{}
	store := b.store.WithEnqueue(rec.enqueue)

	original := newMessage(t, "acme", "invoice.paid", "evt-1", `{"a": 1}`)
	first, err := store.PublishMessage(t.Context(), original)
	require.NoError(t, err)
	require.Equal(t, 2, first.Endpoints)

	// An endpoint added since changes nothing for the replay.
	b.addEndpoint(t, "acme", subscriptions.EndpointParams{})

	again := newMessage(t, "acme", "invoice.paid", "evt-1", `{"a": 1}`)
	require.NotEqual(t, original.ID, again.ID)

	replayed, err := store.PublishMessage(t.Context(), again)
	require.NoError(t, err)
	require.Equal(t, messages.Published{Message: original, Endpoints: 2, Replayed: true}, replayed)

	// Nothing new was stored or queued.
	require.Len(t, rec.recorded(), 1)
	require.Zero(t, b.countRows(t, countMessages, again.ID))
	require.Equal(t, 2, b.countRows(t, countDeliveries, original.ID))

	t.Run("conflicting payload", func(t *testing.T) {
		t.Parallel()

		_, err := store.PublishMessage(t.Context(), newMessage(t, "acme", "invoice.paid", "evt-1", `{"a": 2}`))
		require.ErrorIs(t, err, messages.ErrConflict)
	})

	t.Run("payload spaced differently", func(t *testing.T) {
		t.Parallel()

		_, err := store.PublishMessage(t.Context(), newMessage(t, "acme", "invoice.paid", "evt-1", `{"a":1}`))
		require.ErrorIs(t, err, messages.ErrConflict)
	})

	t.Run("conflicting event type", func(t *testing.T) {
		t.Parallel()

		_, err := store.PublishMessage(t.Context(), newMessage(t, "acme", "invoice.failed", "evt-1", `{"a": 1}`))
		require.ErrorIs(t, err, messages.ErrConflict)
	})

	t.Run("same event id in another tenant", func(t *testing.T) {
		t.Parallel()

		b.putTenant(t, "other")

		m := newMessage(t, "other", "invoice.paid", "evt-1", `{"a": 1}`)
		p, err := b.store.WithEnqueue((&enqueueRecorder{}).enqueue).PublishMessage(t.Context(), m)
		require.NoError(t, err)
		require.False(t, p.Replayed)
		require.Equal(t, m.ID, p.Message.ID)
	})
}

func TestPublishMessageWithoutEventIDNeverReplays(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")
	b.addEndpoint(t, "acme", subscriptions.EndpointParams{})

	first := b.publish(t, newMessage(t, "acme", "invoice.paid", "", `{}`))
	second := b.publish(t, newMessage(t, "acme", "invoice.paid", "", `{}`))
	require.NotEqual(t, first.Message.ID, second.Message.ID)
	require.Empty(t, second.Message.EventID)
}

func TestPublishMessageUnknownTenant(t *testing.T) {
	t.Parallel()

	b := setup(t)
	rec := &enqueueRecorder{}
	store := b.store.WithEnqueue(rec.enqueue)

	for _, eventID := range []string{"", "evt-1"} {
		_, err := store.PublishMessage(t.Context(), newMessage(t, "ghost", "invoice.paid", eventID, `{}`))
		require.ErrorIs(t, err, subscriptions.ErrTenantNotFound)
	}

	require.Empty(t, rec.recorded())
}

func TestPublishMessageConcurrentReplays(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")
	b.addEndpoint(t, "acme", subscriptions.EndpointParams{})
	b.addEndpoint(t, "acme", subscriptions.EndpointParams{})

	const publishers = 5

	var (
		rec     = &enqueueRecorder{}
		store   = b.store.WithEnqueue(rec.enqueue)
		results = make([]messages.Published, publishers)
		errs    = make([]error, publishers)
		start   = make(chan struct{})
		wg      sync.WaitGroup
	)

	for i := range publishers {
		m := newMessage(t, "acme", "invoice.paid", "evt-1", `{"n": 1}`)

		wg.Go(func() {
			<-start

			results[i], errs[i] = store.PublishMessage(t.Context(), m)
		})
	}

	close(start)
	wg.Wait()

	var created []messages.Published

	for i, p := range results {
		require.NoError(t, errs[i])
		require.Equal(t, 2, p.Endpoints)

		if !p.Replayed {
			created = append(created, p)
		}
	}

	require.Len(t, created, 1)

	for _, p := range results {
		require.Equal(t, created[0].Message, p.Message)
	}

	require.Len(t, rec.recorded(), 1)
	require.Equal(t, 2, b.countRows(t, countDeliveries, created[0].Message.ID))
}

func TestGetMessage(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")
	b.putTenant(t, "other")

	e1 := b.addEndpoint(t, "acme", subscriptions.EndpointParams{})
	e2 := b.addEndpoint(t, "acme", subscriptions.EndpointParams{})
	m := b.publish(t, newMessage(t, "acme", "invoice.paid", "evt-1", "{\"é\": \"\\u0000\"}")).Message

	got, deliveries, err := b.store.GetMessage(t.Context(), "acme", m.ID)
	require.NoError(t, err)
	require.Equal(t, m, got)
	require.Len(t, deliveries, 2)

	ids := []string{deliveries[0].EndpointID, deliveries[1].EndpointID}
	require.True(t, slices.IsSorted(ids))
	require.ElementsMatch(t, []string{e1.ID, e2.ID}, ids)

	tests := []struct {
		name     string
		tenantID string
		id       string
	}{
		{name: "another tenant's message", tenantID: "other", id: m.ID},
		{name: "unknown tenant", tenantID: "ghost", id: m.ID},
		{name: "unknown id", tenantID: "acme", id: "msg_01jbq6q6ffe5x9qf2a8n1c3m4z"},
		{name: "empty id", tenantID: "acme", id: ""},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			_, deliveries, err := b.store.GetMessage(t.Context(), tt.tenantID, tt.id)
			require.ErrorIs(t, err, messages.ErrNotFound)
			require.Nil(t, deliveries)
		})
	}
}

func TestGetMessageTimesInUTC(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")

	m := newMessage(t, "acme", "invoice.paid", "", `{}`)
	m.CreatedAt = time.Date(2024, 2, 29, 23, 59, 59, 123456000, time.FixedZone("UTC-7", -7*3600))
	b.publish(t, m)

	got, _, err := b.store.GetMessage(t.Context(), "acme", m.ID)
	require.NoError(t, err)
	require.Equal(t, m.CreatedAt.UTC(), got.CreatedAt)
}
