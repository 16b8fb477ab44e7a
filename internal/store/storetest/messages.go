package storetest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/subscriptions"
)

// The event the tests publish unless they need another.
const (
	eventType = "invoice.paid"
	eventID   = "evt-1"
)

// unknownMessage is a well-formed message id that no test stores.
const unknownMessage = "msg_01jbq6q6ffe5x9qf2a8n1c3m4z"

// newMessage returns a message of the tenant with the event type, event id
// and payload given.
func newMessage(t *testing.T, tenantID, typ, id, payload string) messages.Message {
	t.Helper()

	m, err := messages.New(tenantID, messages.Params{EventType: typ, EventID: id, Payload: []byte(payload)}, 0)
	require.NoError(t, err)

	return m
}

// publish publishes m, which must be new.
func (b *bundle) publish(t *testing.T, m messages.Message) messages.Published {
	t.Helper()

	p, err := b.Store.PublishMessage(t.Context(), m)
	require.NoError(t, err)
	require.False(t, p.Replayed)

	return p
}

// message publishes a new message of the tenant acme without an event id.
func (b *bundle) message(t *testing.T) messages.Message {
	t.Helper()

	return b.publish(t, newMessage(t, acme, eventType, "", "{}")).Message
}

func (s suite) messages(t *testing.T) {
	t.Parallel()

	t.Run("publish to matching enabled endpoints", s.publishMessage)
	t.Run("publish to no endpoint", s.publishMessageToNoEndpoint)
	t.Run("publish stores nothing when enqueue fails", s.publishMessageEnqueueFails)
	t.Run("publish replays an event id", s.publishMessageReplay)
	t.Run("publish without event id never replays", s.publishMessageWithoutEventID)
	t.Run("concurrent publishes of one event id create one", s.publishMessageConcurrently)
	t.Run("publish while endpoints are deleted", s.publishMessageWhileDeleting)
	t.Run("publish for unknown tenant", s.publishMessageUnknownTenant)
	t.Run("publish many at once", s.publishMessages)
	t.Run("publish many stores nothing when enqueue fails", s.publishMessagesEnqueueFails)
	t.Run("get with deliveries", s.getMessage)
	t.Run("get unknown", s.getMessageNotFound)
	t.Run("payload bytes kept exactly", s.messagePayloadExact)
	t.Run("times read back in UTC", s.messageTimesInUTC)
}

func (s suite) publishMessage(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)
	b.putTenant(t, other)

	var (
		all      = b.createEndpoint(t, acme)
		star     = b.addEndpoint(t, acme, subscriptions.EndpointParams{EventTypes: []string{"*"}})
		prefix   = b.addEndpoint(t, acme, subscriptions.EndpointParams{EventTypes: []string{"invoice.*"}})
		exact    = b.addEndpoint(t, acme, subscriptions.EndpointParams{EventTypes: []string{"refund.paid", eventType}})
		elsewise = b.addEndpoint(t, acme, subscriptions.EndpointParams{EventTypes: []string{"customer.*", "invoice"}})
		disabled = b.addEndpoint(t, acme, subscriptions.EndpointParams{Disabled: true, DisabledReason: "paused"})
		foreign  = b.createEndpoint(t, other)
		want     = []string{all.ID, star.ID, prefix.ID, exact.ID}
	)

	slices.Sort(want)

	m := newMessage(t, acme, eventType, eventID, `{"invoice_id": "inv_1"}`)

	published, err := b.Store.PublishMessage(t.Context(), m)
	require.NoError(t, err)
	require.Equal(t, messages.Published{Message: m, Endpoints: 4}, published)

	// One call queues the jobs of every endpoint the message goes to.
	enqueued := b.Enqueued()
	require.Len(t, enqueued, 1)
	require.ElementsMatch(t, messages.Refs(m.ID, want), enqueued[0].Refs)

	got, deliveries, err := b.Store.GetMessage(t.Context(), acme, m.ID)
	require.NoError(t, err)
	require.Equal(t, m, got)

	wantDeliveries := make([]messages.Delivery, len(want))
	for i, id := range want {
		wantDeliveries[i] = messages.Delivery{
			MessageID:  m.ID,
			EndpointID: id,
			TenantID:   acme,
			EventType:  eventType,
			Status:     messages.StatusPending,
			UpdatedAt:  m.CreatedAt,
		}
	}

	require.Equal(t, wantDeliveries, deliveries)

	for _, e := range []subscriptions.Endpoint{elsewise, disabled, foreign} {
		require.NotContains(t, want, e.ID)
	}
}

func (s suite) publishMessageToNoEndpoint(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)
	b.addEndpoint(t, acme, subscriptions.EndpointParams{EventTypes: []string{"customer.*"}})
	b.addEndpoint(t, acme, subscriptions.EndpointParams{Disabled: true})

	m := newMessage(t, acme, eventType, "", "{}")

	published, err := b.Store.PublishMessage(t.Context(), m)
	require.NoError(t, err)
	require.Equal(t, messages.Published{Message: m}, published)

	// Nothing to queue, but the message is kept.
	require.Empty(t, b.Enqueued())

	got, deliveries, err := b.Store.GetMessage(t.Context(), acme, m.ID)
	require.NoError(t, err)
	require.Equal(t, m, got)
	require.Empty(t, deliveries)
}

// publishMessageEnqueueFails proves that publishing is atomic: when the
// jobs cannot be queued, neither the message nor its deliveries are kept.
func (s suite) publishMessageEnqueueFails(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)
	e := b.createEndpoint(t, acme)
	m := newMessage(t, acme, eventType, eventID, "{}")

	b.FailEnqueue(true)

	_, err := b.Store.PublishMessage(t.Context(), m)
	require.ErrorIs(t, err, ErrEnqueue)
	require.Len(t, b.Enqueued(), 1)

	_, _, err = b.Store.GetMessage(t.Context(), acme, m.ID)
	require.ErrorIs(t, err, messages.ErrNotFound)

	_, err = b.Store.LoadTarget(t.Context(), m.ID, e.ID)
	require.ErrorIs(t, err, messages.ErrNotFound)

	// The event id is free again, even for another body.
	b.FailEnqueue(false)

	again := b.publish(t, newMessage(t, acme, eventType, eventID, `{"n": 2}`))
	require.Equal(t, 1, again.Endpoints)
	require.Len(t, b.Enqueued(), 2)
}

func (s suite) publishMessageReplay(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)
	b.putTenant(t, other)
	b.createEndpoint(t, acme)
	b.addEndpoint(t, acme, subscriptions.EndpointParams{EventTypes: []string{"invoice.*"}})

	original := newMessage(t, acme, eventType, eventID, `{"a": 1}`)
	first := b.publish(t, original)
	require.Equal(t, 2, first.Endpoints)

	// An endpoint added since changes nothing for the replay.
	b.createEndpoint(t, acme)

	again := newMessage(t, acme, eventType, eventID, `{"a": 1}`)
	require.NotEqual(t, original.ID, again.ID)

	replayed, err := b.Store.PublishMessage(t.Context(), again)
	require.NoError(t, err)
	require.Equal(t, messages.Published{Message: original, Endpoints: 2, Replayed: true}, replayed)

	// Nothing new was stored or queued.
	require.Len(t, b.Enqueued(), 1)

	_, _, err = b.Store.GetMessage(t.Context(), acme, again.ID)
	require.ErrorIs(t, err, messages.ErrNotFound)

	_, deliveries, err := b.Store.GetMessage(t.Context(), acme, original.ID)
	require.NoError(t, err)
	require.Len(t, deliveries, 2)

	conflicts := map[string]messages.Message{
		"another payload":          newMessage(t, acme, eventType, eventID, `{"a": 2}`),
		"the payload spaced apart": newMessage(t, acme, eventType, eventID, `{"a":1}`),
		"another event type":       newMessage(t, acme, "invoice.failed", eventID, `{"a": 1}`),
	}

	for name, m := range conflicts {
		_, err := b.Store.PublishMessage(t.Context(), m)
		require.ErrorIs(t, err, messages.ErrConflict, name)
	}

	require.Len(t, b.Enqueued(), 1)

	// Event ids are the tenant's own.
	elsewhere := b.publish(t, newMessage(t, other, eventType, eventID, `{"a": 1}`))
	require.Zero(t, elsewhere.Endpoints)
}

func (s suite) publishMessageWithoutEventID(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)
	b.createEndpoint(t, acme)

	first := b.publish(t, newMessage(t, acme, eventType, "", "{}"))
	second := b.publish(t, newMessage(t, acme, eventType, "", "{}"))
	require.NotEqual(t, first.Message.ID, second.Message.ID)
	require.Empty(t, second.Message.EventID)
	require.Len(t, b.Enqueued(), 2)

	got, _, err := b.Store.GetMessage(t.Context(), acme, first.Message.ID)
	require.NoError(t, err)
	require.Empty(t, got.EventID)
}

// publishMessageConcurrently publishes one event from several goroutines
// at once: exactly one creates the message, the others replay it.
func (s suite) publishMessageConcurrently(t *testing.T) {
	t.Parallel()

	const publishers = 5

	var (
		b       = s.setup(t)
		results = make([]messages.Published, publishers)
		errs    = make([]error, publishers)
		start   = make(chan struct{})
		wg      sync.WaitGroup
	)

	b.putTenant(t, acme)
	b.createEndpoint(t, acme)
	b.createEndpoint(t, acme)

	for i := range publishers {
		m := newMessage(t, acme, eventType, eventID, `{"n": 1}`)

		wg.Go(func() {
			<-start

			results[i], errs[i] = b.Store.PublishMessage(t.Context(), m)
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

	require.Len(t, b.Enqueued(), 1)

	_, deliveries, err := b.Store.GetMessage(t.Context(), acme, created[0].Message.ID)
	require.NoError(t, err)
	require.Len(t, deliveries, 2)
}

// publishMessageWhileDeleting deletes endpoints while messages are
// published to them: a publish never fails for it, and each delivery it
// reports belongs to an endpoint that existed when it committed.
func (s suite) publishMessageWhileDeleting(t *testing.T) {
	t.Parallel()

	const rounds = 40

	b := s.setup(t)
	b.putTenant(t, acme)

	for range rounds {
		e := b.createEndpoint(t, acme)

		var (
			published messages.Published
			pubErr    error
			delErr    error
			start     = make(chan struct{})
			wg        sync.WaitGroup
		)

		wg.Go(func() {
			<-start

			published, pubErr = b.Store.PublishMessage(t.Context(), newMessage(t, acme, eventType, "", "{}"))
		})
		wg.Go(func() {
			<-start

			delErr = b.Store.DeleteEndpoint(t.Context(), acme, e.ID)
		})

		close(start)
		wg.Wait()

		require.NoError(t, pubErr)
		require.NoError(t, delErr)
		require.LessOrEqual(t, published.Endpoints, 1)
	}
}

func (s suite) publishMessageUnknownTenant(t *testing.T) {
	t.Parallel()

	b := s.setup(t)

	for _, id := range []string{"", eventID} {
		_, err := b.Store.PublishMessage(t.Context(), newMessage(t, unknown, eventType, id, "{}"))
		require.ErrorIs(t, err, subscriptions.ErrTenantNotFound)
	}

	require.Empty(t, b.Enqueued())
}

// publishMessages publishes in one call messages of two tenants, one of
// an unknown tenant, a replay and a conflict of an earlier event id, and
// a replay and a conflict of an event id first used in the same call.
func (s suite) publishMessages(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)
	b.putTenant(t, other)

	var (
		acmeAll  = b.createEndpoint(t, acme)
		acmeRefs = b.addEndpoint(t, acme, subscriptions.EndpointParams{EventTypes: []string{"refund.*"}})
		otherAll = b.createEndpoint(t, other)
		earlier  = b.publish(t, newMessage(t, acme, eventType, "evt-old", `{"n": 0}`)).Message
		batch    = []messages.Message{
			newMessage(t, acme, eventType, "", `{"n": 1}`),
			newMessage(t, other, "refund.paid", "evt-new", `{"n": 2}`),
			newMessage(t, unknown, eventType, "", `{"n": 3}`),
			newMessage(t, acme, eventType, "evt-old", `{"n": 0}`),
			newMessage(t, acme, eventType, "evt-old", `{"n": 4}`),
			newMessage(t, other, "refund.paid", "evt-new", `{"n": 2}`),
			newMessage(t, other, "refund.paid", "evt-new", `{"n": 5}`),
			newMessage(t, acme, "refund.paid", "", `{"n": 6}`),
		}
	)

	results, err := b.Store.PublishMessages(t.Context(), batch)
	require.NoError(t, err)

	want := []messages.PublishResult{
		{Published: messages.Published{Message: batch[0], Endpoints: 1}},
		{Published: messages.Published{Message: batch[1], Endpoints: 1}},
		{Err: subscriptions.ErrTenantNotFound},
		{Published: messages.Published{Message: earlier, Endpoints: 1, Replayed: true}},
		{Err: messages.ErrConflict},
		{Published: messages.Published{Message: batch[1], Endpoints: 1, Replayed: true}},
		{Err: messages.ErrConflict},
		{Published: messages.Published{Message: batch[7], Endpoints: 2}},
	}
	require.Len(t, results, len(want))

	for i := range want {
		require.ErrorIs(t, results[i].Err, want[i].Err, "message %d", i)
		require.Equal(t, want[i].Published, results[i].Published, "message %d", i)
	}

	// The batch queues its jobs in one call, after the earlier publish's.
	enqueued := b.Enqueued()
	require.Len(t, enqueued, 2)
	require.ElementsMatch(t, []messages.Ref{
		{MessageID: batch[0].ID, EndpointID: acmeAll.ID},
		{MessageID: batch[1].ID, EndpointID: otherAll.ID},
		{MessageID: batch[7].ID, EndpointID: acmeAll.ID},
		{MessageID: batch[7].ID, EndpointID: acmeRefs.ID},
	}, enqueued[1].Refs)

	for _, i := range []int{0, 1, 7} {
		got, deliveries, err := b.Store.GetMessage(t.Context(), batch[i].TenantID, batch[i].ID)
		require.NoError(t, err)
		require.Equal(t, batch[i], got)
		require.Len(t, deliveries, want[i].Published.Endpoints)
	}

	for _, i := range []int{2, 3, 4, 5, 6} {
		_, _, err := b.Store.GetMessage(t.Context(), batch[i].TenantID, batch[i].ID)
		require.ErrorIs(t, err, messages.ErrNotFound, "message %d", i)
	}
}

// publishMessagesEnqueueFails fails the jobs of a batch: none of its
// messages is stored.
func (s suite) publishMessagesEnqueueFails(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)
	b.createEndpoint(t, acme)
	b.FailEnqueue(true)

	batch := []messages.Message{
		newMessage(t, acme, eventType, "", `{"n": 1}`),
		newMessage(t, acme, eventType, eventID, `{"n": 2}`),
	}

	_, err := b.Store.PublishMessages(t.Context(), batch)
	require.ErrorIs(t, err, ErrEnqueue)

	for _, m := range batch {
		_, _, err := b.Store.GetMessage(t.Context(), acme, m.ID)
		require.ErrorIs(t, err, messages.ErrNotFound)
	}
}

func (s suite) getMessage(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)

	e1 := b.createEndpoint(t, acme)
	e2 := b.createEndpoint(t, acme)
	m := b.message(t)

	got, deliveries, err := b.Store.GetMessage(t.Context(), acme, m.ID)
	require.NoError(t, err)
	require.Equal(t, m, got)
	require.Len(t, deliveries, 2)

	// Deliveries come in the order of their endpoint ids.
	ids := []string{deliveries[0].EndpointID, deliveries[1].EndpointID}
	require.True(t, slices.IsSorted(ids))
	require.ElementsMatch(t, []string{e1.ID, e2.ID}, ids)

	for _, d := range deliveries {
		require.Equal(t, m.ID, d.MessageID)
	}
}

func (s suite) getMessageNotFound(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)
	b.putTenant(t, other)
	b.createEndpoint(t, acme)
	m := b.message(t)

	for _, tt := range missing(m.ID, unknownMessage) {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			_, deliveries, err := b.Store.GetMessage(t.Context(), tt.tenantID, tt.id)
			require.ErrorIs(t, err, messages.ErrNotFound)
			require.Nil(t, deliveries)
		})
	}
}

// messagePayloadExact checks that payloads read back byte for byte, as
// webhooks carry them and signatures cover them.
func (s suite) messagePayloadExact(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)

	payloads := []string{
		" {\"exact\" :  \"bytes\"}\n",
		`{"é": "\u0000", "emoji": "🦉", "escaped": "\ud83e\udd89"}`,
		`{"a": 1, "a": 2, "big": 1e400, "precise": 0.10000000000000000001}`,
		"{\r\n\t\"tabs\": [ ]\r\n}",
	}

	for _, payload := range payloads {
		m := newMessage(t, acme, eventType, "", payload)
		b.publish(t, m)

		got, _, err := b.Store.GetMessage(t.Context(), acme, m.ID)
		require.NoError(t, err)
		require.Equal(t, m, got)
		require.Equal(t, payload, string(got.Payload))
	}
}

// messageTimesInUTC checks that a time written in another zone reads back
// as the same instant in UTC, to the microsecond.
func (s suite) messageTimesInUTC(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)

	m := newMessage(t, acme, eventType, "", "{}")
	m.CreatedAt = time.Date(2024, 2, 29, 23, 59, 59, 123456000, time.FixedZone("UTC-7", -7*3600))
	b.publish(t, m)

	want := m
	want.CreatedAt = m.CreatedAt.UTC()

	got, _, err := b.Store.GetMessage(t.Context(), acme, m.ID)
	require.NoError(t, err)
	require.Equal(t, want, got)
}
