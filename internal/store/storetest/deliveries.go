package storetest

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/subscriptions"
)

// goneReason is why the tests disable endpoints.
const goneReason = "the endpoint answered 410 Gone"

func (s suite) deliveries(t *testing.T) {
	t.Parallel()

	t.Run("load target", s.loadTarget)
	t.Run("load target not found", s.loadTargetNotFound)
	t.Run("load many targets at once", s.loadTargets)
	t.Run("record many attempts at once", s.recordAttempts)
	t.Run("record attempts and queue their jobs", s.recordAttemptsQueuing)
	t.Run("record an attempt of a deleted delivery", s.recordAttemptDeleted)
	t.Run("record gone disables the endpoint", s.recordGone)
	t.Run("record gone changes nothing when it fails", s.recordGoneAtomic)
	t.Run("fail delivery only touches pending", s.failDelivery)
	t.Run("fail delivery only in its round, untried if asked", s.failDeliveryOwned)
	t.Run("disable endpoint fails its pending deliveries", s.disableEndpoint)
}

func (s suite) loadTarget(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)

	e := b.addEndpoint(t, acme, subscriptions.EndpointParams{
		EventTypes: []string{eventType},
		Headers:    map[string]string{"Authorization": "Bearer t0k3n"},
	})

	e, err := b.Store.UpdateEndpoint(t.Context(), acme, e.ID, func(e *subscriptions.Endpoint) error {
		e.RotateSecret(newSecret(t))
		return nil
	})
	require.NoError(t, err)
	require.Len(t, e.PreviousSecrets, 1)

	m := b.publish(t, newMessage(t, acme, eventType, "", " {\"exact\" :  \"bytes\"} ")).Message

	target, err := b.Store.LoadTarget(t.Context(), m.ID, e.ID)
	require.NoError(t, err)
	requireTarget(t, messages.Target{
		Delivery: messages.Delivery{MessageID: m.ID, EndpointID: e.ID, Status: messages.StatusPending},
		Payload:  m.Payload,
		Endpoint: e,
	}, target)

	b.record(t, attemptAt(t, m.ID, e.ID, 0))

	target, err = b.Store.LoadTarget(t.Context(), m.ID, e.ID)
	require.NoError(t, err)
	require.Equal(t, messages.StatusPending, target.Delivery.Status)
	require.Equal(t, 1, target.Delivery.Attempts)

	second := succeeded(attemptAt(t, m.ID, e.ID, 60))
	second.Number = 2
	b.record(t, second)

	target, err = b.Store.LoadTarget(t.Context(), m.ID, e.ID)
	require.NoError(t, err)
	require.Equal(t, messages.StatusSucceeded, target.Delivery.Status)
	require.Equal(t, 2, target.Delivery.Attempts)
}

// requireTarget checks what sending needs of a target: the delivery's
// identity, state and tries, the exact payload and the whole endpoint.
func requireTarget(t *testing.T, want, got messages.Target) {
	t.Helper()

	require.Equal(t, want.Delivery.MessageID, got.Delivery.MessageID)
	require.Equal(t, want.Delivery.EndpointID, got.Delivery.EndpointID)
	require.Equal(t, want.Delivery.Status, got.Delivery.Status)
	require.Equal(t, want.Delivery.Attempts, got.Delivery.Attempts)
	require.Equal(t, want.Payload, got.Payload)
	require.Equal(t, want.Endpoint, got.Endpoint)
}

func (s suite) loadTargetNotFound(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)

	t.Run("endpoint deleted", func(t *testing.T) {
		t.Parallel()

		e := b.createEndpoint(t, acme)
		m := b.message(t)
		require.NoError(t, b.Store.DeleteEndpoint(t.Context(), acme, e.ID))

		_, err := b.Store.LoadTarget(t.Context(), m.ID, e.ID)
		require.ErrorIs(t, err, messages.ErrNotFound)
	})

	t.Run("message's tenant deleted", func(t *testing.T) {
		t.Parallel()

		b.putTenant(t, other)
		e := b.createEndpoint(t, other)
		m := b.publish(t, newMessage(t, other, eventType, "", "{}")).Message
		require.NoError(t, b.Store.DeleteTenant(t.Context(), other))

		_, err := b.Store.LoadTarget(t.Context(), m.ID, e.ID)
		require.ErrorIs(t, err, messages.ErrNotFound)
	})

	t.Run("no delivery between them", func(t *testing.T) {
		t.Parallel()

		m := b.message(t)
		e := b.createEndpoint(t, acme) // added after

		_, err := b.Store.LoadTarget(t.Context(), m.ID, e.ID)
		require.ErrorIs(t, err, messages.ErrNotFound)
	})

	t.Run("unknown ids", func(t *testing.T) {
		t.Parallel()

		_, err := b.Store.LoadTarget(t.Context(), unknownMessage, unknownEndpoint)
		require.ErrorIs(t, err, messages.ErrNotFound)
	})
}

// loadTargets loads in one call the deliveries of two messages to two
// endpoints, one whose endpoint is gone, one that never existed and a key
// asked for twice.
func (s suite) loadTargets(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)

	var (
		first  = b.createEndpoint(t, acme)
		second = b.addEndpoint(t, acme, subscriptions.EndpointParams{Headers: map[string]string{"X-N": "2"}})
		gone   = b.createEndpoint(t, acme)
		m1     = b.publish(t, newMessage(t, acme, eventType, "", `{"n": 1}`)).Message
		m2     = b.publish(t, newMessage(t, acme, eventType, "", `{"n": 2}`)).Message
	)

	require.NoError(t, b.Store.DeleteEndpoint(t.Context(), acme, gone.ID))
	tried := b.record(t, attemptAt(t, m2.ID, second.ID, 0))

	key := func(m messages.Message, e subscriptions.Endpoint) messages.DeliveryKey {
		return messages.DeliveryKey{MessageID: m.ID, EndpointID: e.ID}
	}

	targets, err := b.Store.LoadTargets(t.Context(), []messages.DeliveryKey{
		key(m1, first), key(m2, second), key(m1, gone),
		{MessageID: unknownMessage, EndpointID: unknownEndpoint},
		key(m1, first),
	})
	require.NoError(t, err)
	require.Len(t, targets, 2)

	requireTarget(t, messages.Target{
		Delivery: messages.Delivery{MessageID: m1.ID, EndpointID: first.ID, Status: messages.StatusPending},
		Payload:  m1.Payload,
		Endpoint: first,
	}, targets[key(m1, first)])
	requireTarget(t, messages.Target{
		Delivery: messages.Delivery{
			MessageID: m2.ID, EndpointID: second.ID, Status: messages.StatusPending, Attempts: 1,
		},
		Payload:  m2.Payload,
		Endpoint: second,
	}, targets[key(m2, second)])
	require.True(t, tried.NextAttemptAt.Equal(targets[key(m2, second)].Delivery.NextAttemptAt),
		"a target says when its next attempt is due")

	targets, err = b.Store.LoadTargets(t.Context(), nil)
	require.NoError(t, err)
	require.Empty(t, targets)
}

// recordAttempts records in one call the attempts of three deliveries:
// one succeeds, one is given up, one will be tried again.
func (s suite) recordAttempts(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)

	var (
		e        = b.createEndpoint(t, acme)
		msgs     = []messages.Message{b.message(t), b.message(t), b.message(t)}
		ok       = succeeded(attemptAt(t, msgs[0].ID, e.ID, 0))
		failed   = attemptAt(t, msgs[1].ID, e.ID, 1)
		retrying = attemptAt(t, msgs[2].ID, e.ID, 2)
	)

	failed.NextAttemptAt = time.Time{}

	err := b.Store.RecordAttempts(t.Context(), []messages.Record{
		{Attempt: ok, Status: messages.StatusSucceeded},
		{Attempt: failed, Status: messages.StatusFailed, Reason: gaveUp},
		{Attempt: retrying, Status: messages.StatusPending},
	}, nil)
	require.NoError(t, err)

	for i, want := range []struct {
		attempt messages.Attempt
		status  messages.Status
		reason  string
	}{
		{ok, messages.StatusSucceeded, ""},
		{failed, messages.StatusFailed, gaveUp},
		{retrying, messages.StatusPending, ""},
	} {
		d := b.delivery(t, msgs[i].ID, e.ID)
		require.Equal(t, want.status, d.Status, "delivery %d", i)
		require.Equal(t, want.reason, d.Reason, "delivery %d", i)
		require.Equal(t, 1, d.Attempts, "delivery %d", i)
		require.True(t, want.attempt.NextAttemptAt.Equal(d.NextAttemptAt), "delivery %d", i)

		got, err := b.Store.ListMessageAttempts(t.Context(), acme, msgs[i].ID, "", 10)
		require.NoError(t, err)
		require.Equal(t, []messages.Attempt{want.attempt}, got)
	}
}

// recordAttemptsQueuing records attempts with the jobs that follow them,
// in one transaction: when queueing fails, no attempt is stored either.
func (s suite) recordAttemptsQueuing(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)

	var (
		e     = b.createEndpoint(t, acme)
		m1    = b.message(t)
		m2    = b.message(t)
		first = attemptAt(t, m1.ID, e.ID, 0)
		refs  = []messages.Ref{
			{MessageID: m1.ID, EndpointID: e.ID, At: first.NextAttemptAt},
			{MessageID: m2.ID, EndpointID: e.ID, At: epoch.Add(time.Hour)},
		}
		records = []messages.Record{{Attempt: first, Status: messages.StatusPending}}
	)

	b.FailEnqueue(true)
	require.ErrorIs(t, b.Store.RecordAttempts(t.Context(), records, refs), ErrEnqueue)
	require.Zero(t, b.delivery(t, m1.ID, e.ID).Attempts, "the attempt was stored without its job")

	b.FailEnqueue(false)
	require.NoError(t, b.Store.RecordAttempts(t.Context(), records, refs))
	require.Equal(t, 1, b.delivery(t, m1.ID, e.ID).Attempts)
	require.Equal(t, Enqueue{Refs: refs}, b.lastEnqueued(t))

	// Jobs alone need no attempt.
	alone := []messages.Ref{{MessageID: m2.ID, EndpointID: e.ID}}
	require.NoError(t, b.Store.RecordAttempts(t.Context(), nil, alone))
	require.Equal(t, Enqueue{Refs: alone}, b.lastEnqueued(t))
}

// recordAttemptDeleted records the attempt of a delivery whose message was
// deleted meanwhile.
func (s suite) recordAttemptDeleted(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)
	b.putTenant(t, other)

	e := b.createEndpoint(t, other)
	m := b.publish(t, newMessage(t, other, eventType, "", "{}")).Message
	require.NoError(t, b.Store.DeleteTenant(t.Context(), other))

	a := attemptAt(t, m.ID, e.ID, 0)
	err := b.Store.RecordAttempts(t.Context(), []messages.Record{{Attempt: a, Status: messages.StatusPending}}, nil)
	require.ErrorIs(t, err, messages.ErrNotFound)
}

// goneAt returns the attempt of the delivery started n seconds after epoch
// that the endpoint answered with 410 Gone.
func goneAt(t *testing.T, messageID, endpointID string, n int) messages.Attempt {
	t.Helper()

	a := attemptAt(t, messageID, endpointID, n)
	a.StatusCode, a.ResponseBody, a.NextAttemptAt = http.StatusGone, []byte("gone"), time.Time{}
	a.Error = goneReason

	return a
}

// recordGone records a 410 Gone: the attempt is kept, its delivery fails,
// the endpoint is disabled and every delivery to it still pending fails
// too, while other endpoints carry on.
func (s suite) recordGone(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)

	var (
		e       = b.createEndpoint(t, acme)
		kept    = b.createEndpoint(t, acme)
		sending = b.message(t)
		queued  = b.message(t)
		done    = b.message(t)
	)

	b.record(t, succeeded(attemptAt(t, done.ID, e.ID, 0)))
	succeededBefore := b.delivery(t, done.ID, e.ID)

	a := goneAt(t, sending.ID, e.ID, 10)
	require.NoError(t, b.Store.RecordGone(t.Context(), a, goneReason))

	got, err := b.Store.ListMessageAttempts(t.Context(), acme, sending.ID, "", 10)
	require.NoError(t, err)
	require.Equal(t, []messages.Attempt{a}, got)

	require.Equal(t, messages.Delivery{
		MessageID:  sending.ID,
		EndpointID: e.ID,
		TenantID:   acme,
		EventType:  eventType,
		Status:     messages.StatusFailed,
		Attempts:   1,
		Reason:     goneReason,
		UpdatedAt:  a.StartedAt.Add(a.Duration),
	}, b.delivery(t, sending.ID, e.ID))

	d := b.delivery(t, queued.ID, e.ID)
	require.Equal(t, messages.StatusFailed, d.Status)
	require.Equal(t, "endpoint disabled: "+goneReason, d.Reason)
	require.True(t, d.NextAttemptAt.IsZero())

	require.Equal(t, succeededBefore, b.delivery(t, done.ID, e.ID))

	b.requireDisabled(t, e)

	b.requireUntouched(t, kept, sending, queued, done)
}

// requireDisabled checks that e is disabled for goneReason and otherwise
// unchanged.
func (b *bundle) requireDisabled(t *testing.T, e subscriptions.Endpoint) {
	t.Helper()

	got, err := b.Store.GetEndpoint(t.Context(), e.TenantID, e.ID)
	require.NoError(t, err)

	want := e
	want.Disabled, want.DisabledReason, want.UpdatedAt = true, goneReason, got.UpdatedAt
	require.Equal(t, want, got)
}

// requireUntouched checks that e is enabled and its deliveries of msgs
// are pending.
func (b *bundle) requireUntouched(t *testing.T, e subscriptions.Endpoint, msgs ...messages.Message) {
	t.Helper()

	got, err := b.Store.GetEndpoint(t.Context(), e.TenantID, e.ID)
	require.NoError(t, err)
	require.Equal(t, e, got)

	for _, m := range msgs {
		d := b.delivery(t, m.ID, e.ID)
		require.Equal(t, messages.StatusPending, d.Status, m.ID)
		require.Empty(t, d.Reason)
	}
}

// recordGoneAtomic records a 410 Gone whose attempt cannot be stored, as
// its id is taken: then the endpoint stays enabled and no delivery fails,
// so that the job can try again.
func (s suite) recordGoneAtomic(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)

	var (
		e       = b.createEndpoint(t, acme)
		sending = b.message(t)
		queued  = b.message(t)
		first   = b.record(t, attemptAt(t, sending.ID, e.ID, 0))
		before  = b.delivery(t, sending.ID, e.ID)
	)

	a := goneAt(t, sending.ID, e.ID, 10)
	a.ID, a.Number = first.ID, 2
	require.Error(t, b.Store.RecordGone(t.Context(), a, goneReason))

	got, err := b.Store.ListMessageAttempts(t.Context(), acme, sending.ID, "", 10)
	require.NoError(t, err)
	require.Equal(t, []messages.Attempt{first}, got)
	require.Equal(t, before, b.delivery(t, sending.ID, e.ID))

	b.requireUntouched(t, e, queued)
}

// failDeliveryOwned gives up deliveries under the conditions a job puts:
// the round it was queued for, and no attempt yet when it asks so.
func (s suite) failDeliveryOwned(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)

	var (
		e        = b.createEndpoint(t, acme)
		tried    = b.message(t)
		untried  = b.message(t)
		replayed = b.message(t)
	)

	b.record(t, attemptAt(t, tried.ID, e.ID, 0))
	b.resend(t, replayed.ID, e.ID)

	fail := func(m messages.Message, round int, untried bool) {
		require.NoError(t, b.Store.FailDelivery(t.Context(), messages.Failure{
			MessageID: m.ID, EndpointID: e.ID, Round: round, Untried: untried, Reason: "given up",
		}))
	}

	// The job of round 0 no longer owns a delivery in round 1.
	fail(replayed, 0, false)
	require.Equal(t, messages.StatusPending, b.delivery(t, replayed.ID, e.ID).Status)

	// Nor, asking for an untried one, a delivery already tried.
	fail(tried, 0, true)
	require.Equal(t, messages.StatusPending, b.delivery(t, tried.ID, e.ID).Status)

	fail(untried, 0, true)
	require.Equal(t, messages.StatusFailed, b.delivery(t, untried.ID, e.ID).Status)

	fail(replayed, 1, true)
	require.Equal(t, messages.StatusFailed, b.delivery(t, replayed.ID, e.ID).Status)

	fail(tried, 0, false)
	require.Equal(t, messages.StatusFailed, b.delivery(t, tried.ID, e.ID).Status)
}

func (s suite) failDelivery(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)

	var (
		pending = b.createEndpoint(t, acme)
		done    = b.createEndpoint(t, acme)
		m       = b.message(t)
		reason  = "endpoint disabled: paused"
	)

	b.record(t, attemptAt(t, m.ID, pending.ID, 0))
	b.record(t, succeeded(attemptAt(t, m.ID, done.ID, 0)))
	before := b.delivery(t, m.ID, done.ID)

	for _, e := range []subscriptions.Endpoint{pending, done} {
		require.NoError(t, b.Store.FailDelivery(t.Context(), messages.Failure{
			MessageID: m.ID, EndpointID: e.ID, Reason: reason,
		}))
	}

	failed := b.delivery(t, m.ID, pending.ID)
	require.Equal(t, messages.StatusFailed, failed.Status)
	require.Equal(t, reason, failed.Reason)
	require.Equal(t, 1, failed.Attempts)
	require.True(t, failed.NextAttemptAt.IsZero())

	// Only a pending delivery is given up, and only once.
	require.Equal(t, before, b.delivery(t, m.ID, done.ID))

	require.NoError(t, b.Store.FailDelivery(t.Context(), messages.Failure{
		MessageID: m.ID, EndpointID: pending.ID, Reason: "another reason",
	}))
	require.Equal(t, failed, b.delivery(t, m.ID, pending.ID))

	// A missing delivery is no error: there is nothing left to give up.
	require.NoError(t, b.Store.FailDelivery(t.Context(), messages.Failure{
		MessageID: m.ID, EndpointID: unknownEndpoint, Reason: "gone",
	}))

	// Nor does it disable the endpoint.
	got, err := b.Store.GetEndpoint(t.Context(), acme, pending.ID)
	require.NoError(t, err)
	require.Equal(t, pending, got)
}

func (s suite) disableEndpoint(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)

	var (
		e      = b.createEndpoint(t, acme)
		kept   = b.createEndpoint(t, acme)
		done   = b.message(t)
		retry  = b.message(t)
		queued = b.message(t)
	)

	b.record(t, succeeded(attemptAt(t, done.ID, e.ID, 0)))
	b.record(t, attemptAt(t, retry.ID, e.ID, 10))

	succeededBefore := b.delivery(t, done.ID, e.ID)

	require.NoError(t, b.Store.DisableEndpoint(t.Context(), e.ID, goneReason))

	b.requireDisabled(t, e)

	for _, m := range []messages.Message{retry, queued} {
		d := b.delivery(t, m.ID, e.ID)
		require.Equal(t, messages.StatusFailed, d.Status, m.ID)
		require.Equal(t, "endpoint disabled: "+goneReason, d.Reason)
		require.True(t, d.NextAttemptAt.IsZero())
	}

	require.Equal(t, succeededBefore, b.delivery(t, done.ID, e.ID))
	b.requireUntouched(t, kept, done, retry, queued)

	// New messages no longer go to the disabled endpoint.
	p := b.publish(t, newMessage(t, acme, eventType, "", "{}"))
	require.Equal(t, 1, p.Endpoints)
}
