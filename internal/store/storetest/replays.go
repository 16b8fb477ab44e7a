package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/subscriptions"
)

// actor is who asks for the replays the tests make.
const actor = "key:3f2a9c1d0e4b"

// unknownRecovery is a well-formed recovery id that no test stores.
const unknownRecovery = "rcv_01jbq6q6ffe5x9qf2a8n1c3m4z"

// The errors of an endpoint that cannot be replayed to.
var (
	errNoEndpoint = subscriptions.ErrEndpointNotFound
	errDisabled   = subscriptions.ErrEndpointDisabled
)

// requireDisabledFor requires err to refuse a disabled endpoint and to say
// that it was disabled for reason.
func requireDisabledFor(t *testing.T, err error, reason string) {
	t.Helper()

	var disabled *subscriptions.DisabledError

	require.ErrorIs(t, err, errDisabled)
	require.ErrorAs(t, err, &disabled)
	require.Equal(t, reason, disabled.Reason)
}

// publishAt publishes a message of the tenant acme created at at, with an
// id that places it there.
func (b *bundle) publishAt(t *testing.T, at time.Time) messages.Message {
	t.Helper()

	m := newMessage(t, acme, eventType, "", "{}")
	m.ID, m.CreatedAt = idAt(t, "msg", at), at.UTC().Truncate(time.Microsecond)

	return b.publish(t, m).Message
}

// newResend returns actor's request to resend the tenant acme's message to
// the endpoint.
func newResend(t *testing.T, messageID, endpointID string) messages.Replay {
	t.Helper()

	r, err := messages.NewResend(acme, messageID, endpointID, actor)
	require.NoError(t, err)

	return r
}

// resend resends the tenant acme's message to the endpoint and returns
// the replay and the delivery as it starts its new round.
func (b *bundle) resend(
	t *testing.T, messageID, endpointID string,
) (messages.Replay, messages.Delivery) {
	t.Helper()

	r := newResend(t, messageID, endpointID)

	d, err := b.Store.Resend(t.Context(), r)
	require.NoError(t, err)

	return r, d
}

// giveUp gives up the delivery of the tenant acme's message to the
// endpoint, in its current round.
func (b *bundle) giveUp(t *testing.T, messageID, endpointID string) {
	t.Helper()

	require.NoError(t, b.Store.FailDelivery(t.Context(), messages.Failure{
		MessageID: messageID, EndpointID: endpointID, Round: b.delivery(t, messageID, endpointID).Round,
		Reason: "gave up",
	}))
}

// replaysOf returns the replays of the tenant acme's message, newest first.
func (b *bundle) replaysOf(t *testing.T, messageID string) []messages.Replay {
	t.Helper()

	replays, err := b.Store.ListReplays(t.Context(), acme, messageID, 100)
	require.NoError(t, err)

	return replays
}

// lastEnqueued returns the newest enqueue call.
func (b *bundle) lastEnqueued(t *testing.T) Enqueue {
	t.Helper()

	calls := b.Enqueued()
	require.NotEmpty(t, calls)

	return calls[len(calls)-1]
}

// requireDueNow checks that d was just made due.
func requireDueNow(t *testing.T, d messages.Delivery) {
	t.Helper()

	require.WithinDuration(t, time.Now(), d.NextAttemptAt, time.Minute)
	require.WithinDuration(t, time.Now(), d.UpdatedAt, time.Minute)
}

func (s suite) replays(t *testing.T) {
	t.Parallel()

	t.Run("resend starts the next round", s.resend)
	t.Run("resend makes a delivery that never was", s.resendNewDelivery)
	t.Run("resend refused writes nothing", s.resendRefused)
	t.Run("resend writes nothing when enqueue fails", s.resendEnqueueFails)
	t.Run("an attempt of an old round leaves the delivery", s.recordOldRound)
	t.Run("list replays, newest first", s.listReplays)
	t.Run("list replays, not found", s.listReplaysNotFound)
	t.Run("create recovery counts the failed deliveries of its window", s.createRecovery)
	t.Run("create recovery refused writes nothing", s.createRecoveryRefused)
	t.Run("recover in batches", s.recoverNext)
	t.Run("recover writes nothing when enqueue fails", s.recoverNextEnqueueFails)
	t.Run("recover canceled when the endpoint is disabled", s.recoverNextCanceled)
	t.Run("recover unknown", s.recoverNextNotFound)
	t.Run("get and list recoveries", s.listRecoveries)
	t.Run("get and list recoveries, not found", s.listRecoveriesNotFound)
}

// resend resends a delivery in each state it can be in: the delivery
// starts its next round, pending and due, from the attempts it made, with
// its job queued and the replay on record.
func (s suite) resend(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		prepare func(t *testing.T, b *bundle, messageID, endpointID string)
	}{
		{name: "never tried", prepare: func(*testing.T, *bundle, string, string) {}},
		{name: "retrying", prepare: func(t *testing.T, b *bundle, messageID, endpointID string) {
			t.Helper()
			b.record(t, attemptAt(t, messageID, endpointID, 0))
		}},
		{name: "delivered", prepare: func(t *testing.T, b *bundle, messageID, endpointID string) {
			t.Helper()
			b.record(t, succeeded(attemptAt(t, messageID, endpointID, 0)))
		}},
		{name: "given up", prepare: func(t *testing.T, b *bundle, messageID, endpointID string) {
			t.Helper()
			b.record(t, attemptAt(t, messageID, endpointID, 0))

			last := attemptAt(t, messageID, endpointID, 60)
			last.Number, last.NextAttemptAt = 2, time.Time{}
			reason := "gave up after 2 attempts"
			require.NoError(t, b.Store.RecordAttempt(t.Context(), last, messages.StatusFailed, reason))
		}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			b := s.setup(t)
			b.putTenant(t, acme)
			e := b.createEndpoint(t, acme)
			m := b.message(t)
			tt.prepare(t, b, m.ID, e.ID)

			before := b.delivery(t, m.ID, e.ID)
			r, got := b.resend(t, m.ID, e.ID)

			want := before
			want.Status, want.Reason = messages.StatusPending, ""
			want.Round, want.RoundStart = 1, before.Attempts
			want.NextAttemptAt, want.UpdatedAt = got.NextAttemptAt, got.UpdatedAt
			require.Equal(t, want, got)
			requireDueNow(t, got)
			require.Equal(t, got, b.delivery(t, m.ID, e.ID))

			ref := messages.Ref{MessageID: m.ID, EndpointID: e.ID, Round: 1}
			require.Equal(t, Enqueue{Refs: []messages.Ref{ref}}, b.lastEnqueued(t))
			require.Len(t, b.Enqueued(), 2)
			require.Equal(t, []messages.Replay{r}, b.replaysOf(t, m.ID))

			// Once more: the round after, still from the same attempts.
			_, again := b.resend(t, m.ID, e.ID)
			require.Equal(t, 2, again.Round)
			require.Equal(t, before.Attempts, again.RoundStart)
			require.Equal(t, messages.StatusPending, again.Status)

			ref.Round = 2
			require.Equal(t, Enqueue{Refs: []messages.Ref{ref}}, b.lastEnqueued(t))
			require.Len(t, b.replaysOf(t, m.ID), 2)
		})
	}
}

// resendNewDelivery resends a message to an endpoint made after it: the
// delivery is made, in its first round, and can be sent.
func (s suite) resendNewDelivery(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)
	m := b.message(t)
	e := b.createEndpoint(t, acme)

	r, got := b.resend(t, m.ID, e.ID)
	requireDueNow(t, got)
	require.Equal(t, messages.Delivery{
		MessageID:     m.ID,
		EndpointID:    e.ID,
		TenantID:      acme,
		EventType:     eventType,
		Status:        messages.StatusPending,
		NextAttemptAt: got.NextAttemptAt,
		UpdatedAt:     got.UpdatedAt,
	}, got)
	require.Equal(t, got, b.delivery(t, m.ID, e.ID))

	ref := messages.Ref{MessageID: m.ID, EndpointID: e.ID}
	require.Equal(t, []Enqueue{{Refs: []messages.Ref{ref}}}, b.Enqueued())
	require.Equal(t, []messages.Replay{r}, b.replaysOf(t, m.ID))

	target, err := b.Store.LoadTarget(t.Context(), m.ID, e.ID)
	require.NoError(t, err)
	requireRound(t, got, target.Delivery)
	require.Equal(t, m.Payload, target.Payload)
}

// requireRound checks what a delivery job reads of a delivery: which one
// it is, its state and its round.
func requireRound(t *testing.T, want, got messages.Delivery) {
	t.Helper()

	require.Equal(t, want.MessageID, got.MessageID)
	require.Equal(t, want.EndpointID, got.EndpointID)
	require.Equal(t, want.TenantID, got.TenantID)
	require.Equal(t, want.EventType, got.EventType)
	require.Equal(t, want.Status, got.Status)
	require.Equal(t, want.Attempts, got.Attempts)
	require.Equal(t, want.Round, got.Round)
	require.Equal(t, want.RoundStart, got.RoundStart)
}

// requirePage checks a page of a listing, nil or empty alike when there is
// nothing on it.
func requirePage[T any](t *testing.T, want, got []T, msgAndArgs ...any) {
	t.Helper()

	if len(want) == 0 {
		require.Empty(t, got, msgAndArgs...)
		return
	}

	require.Equal(t, want, got, msgAndArgs...)
}

// resendRefused resends what cannot be resent: each is refused with its
// error, and nothing is written or queued.
func (s suite) resendRefused(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)
	b.putTenant(t, other)

	var (
		e        = b.createEndpoint(t, acme)
		disabled = b.createEndpoint(t, acme)
		foreign  = b.createEndpoint(t, other)
		m        = b.message(t)
		theirs   = b.publish(t, newMessage(t, other, eventType, "", "{}")).Message
	)

	require.NoError(t, b.Store.DisableEndpoint(t.Context(), disabled.ID, goneReason))

	_, before, err := b.Store.GetMessage(t.Context(), acme, m.ID)
	require.NoError(t, err)

	enqueued := b.Enqueued()

	tests := []struct {
		name       string
		messageID  string
		endpointID string
		want       error
	}{
		{name: "unknown message", messageID: unknownMessage, endpointID: e.ID, want: messages.ErrNotFound},
		{name: "another tenant's message", messageID: theirs.ID, endpointID: e.ID, want: messages.ErrNotFound},
		{name: "unknown endpoint", messageID: m.ID, endpointID: unknownEndpoint, want: errNoEndpoint},
		{name: "another tenant's endpoint", messageID: m.ID, endpointID: foreign.ID, want: errNoEndpoint},
		{name: "disabled endpoint", messageID: m.ID, endpointID: disabled.ID, want: errDisabled},
	}

	for _, tt := range tests {
		d, err := b.Store.Resend(t.Context(), newResend(t, tt.messageID, tt.endpointID))
		require.ErrorIs(t, err, tt.want, tt.name)
		require.Zero(t, d, tt.name)
	}

	// The refusal says why the endpoint was disabled.
	_, err = b.Store.Resend(t.Context(), newResend(t, m.ID, disabled.ID))
	requireDisabledFor(t, err, goneReason)

	_, after, err := b.Store.GetMessage(t.Context(), acme, m.ID)
	require.NoError(t, err)
	require.Equal(t, before, after)
	require.Empty(t, b.replaysOf(t, m.ID))
	require.Equal(t, enqueued, b.Enqueued())
}

// resendEnqueueFails resends while jobs cannot be queued: the delivery is
// left as it was, or not made, and no replay is recorded.
func (s suite) resendEnqueueFails(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)

	var (
		e     = b.createEndpoint(t, acme)
		m     = b.message(t)
		later = b.createEndpoint(t, acme)
	)

	b.record(t, attemptAt(t, m.ID, e.ID, 0))
	b.giveUp(t, m.ID, e.ID)
	before := b.delivery(t, m.ID, e.ID)

	b.FailEnqueue(true)

	for _, endpointID := range []string{e.ID, later.ID} {
		_, err := b.Store.Resend(t.Context(), newResend(t, m.ID, endpointID))
		require.ErrorIs(t, err, ErrEnqueue)
	}

	_, deliveries, err := b.Store.GetMessage(t.Context(), acme, m.ID)
	require.NoError(t, err)
	require.Equal(t, []messages.Delivery{before}, deliveries)
	require.Empty(t, b.replaysOf(t, m.ID))

	// Once jobs can be queued again, the resend starts the first replay.
	b.FailEnqueue(false)

	_, got := b.resend(t, m.ID, e.ID)
	require.Equal(t, 1, got.Round)
	require.Len(t, b.replaysOf(t, m.ID), 1)
}

// recordOldRound records an attempt of a round that a resend ended: it is
// kept with the delivery's attempts, but only an attempt of the current
// round changes the delivery.
func (s suite) recordOldRound(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)
	e := b.createEndpoint(t, acme)
	m := b.message(t)

	first := b.record(t, attemptAt(t, m.ID, e.ID, 0))
	_, resent := b.resend(t, m.ID, e.ID)
	require.Equal(t, 1, resent.Round)
	require.Equal(t, 1, resent.RoundStart)

	target, err := b.Store.LoadTarget(t.Context(), m.ID, e.ID)
	require.NoError(t, err)
	requireRound(t, resent, target.Delivery)

	// The job of round 0 was still running: it gives up.
	stale := attemptAt(t, m.ID, e.ID, 10)
	stale.Number, stale.NextAttemptAt = 2, time.Time{}
	reason := "gave up after 2 attempts"
	require.NoError(t, b.Store.RecordAttempt(t.Context(), stale, messages.StatusFailed, reason))
	require.Equal(t, resent, b.delivery(t, m.ID, e.ID))

	// The job of round 1 succeeds.
	current := succeeded(attemptAt(t, m.ID, e.ID, 20))
	current.Number, current.Round = 2, 1
	b.record(t, current)

	got := b.delivery(t, m.ID, e.ID)
	require.Equal(t, messages.StatusSucceeded, got.Status)
	require.Equal(t, 2, got.Attempts)
	require.Equal(t, 1, got.Round)
	require.Equal(t, 1, got.RoundStart)

	attempts, err := b.Store.ListMessageAttempts(t.Context(), acme, m.ID, "", 10)
	require.NoError(t, err)
	require.Equal(t, newestFirst(first, stale, current), ids(attempts))
}

func (s suite) listReplays(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)

	var (
		e1    = b.createEndpoint(t, acme)
		e2    = b.createEndpoint(t, acme)
		m     = b.message(t)
		noise = b.message(t)
		quiet = b.message(t)
		made  = make([]messages.Replay, 0, 3)
	)

	// Three replays a second apart, with ids that say so, and one of
	// another message.
	for n, e := range []subscriptions.Endpoint{e1, e2, e1} {
		r := newResend(t, m.ID, e.ID)
		r.ID = idAt(t, "rpl", epoch.Add(time.Duration(n)*time.Second))

		_, err := b.Store.Resend(t.Context(), r)
		require.NoError(t, err)

		made = append(made, r)
	}

	b.resend(t, noise.ID, e1.ID)
	slices.Reverse(made)

	for _, limit := range []int{0, 1, 2, 3, 10} {
		got, err := b.Store.ListReplays(t.Context(), acme, m.ID, limit)
		require.NoError(t, err)
		requirePage(t, made[:min(limit, len(made))], got, "limit %d", limit)
	}

	got, err := b.Store.ListReplays(t.Context(), acme, quiet.ID, 10)
	require.NoError(t, err)
	require.Empty(t, got)
}

func (s suite) listReplaysNotFound(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)
	b.putTenant(t, other)
	e := b.createEndpoint(t, acme)
	m := b.message(t)
	b.resend(t, m.ID, e.ID)

	for _, tt := range missing(m.ID, unknownMessage) {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := b.Store.ListReplays(t.Context(), tt.tenantID, tt.id, 10)
			require.ErrorIs(t, err, messages.ErrNotFound)
			require.Nil(t, got)
		})
	}
}

// window is a recovery window an hour ago, and the messages of the tenant
// acme published around it.
type window struct {
	since, until time.Time

	// before was created just before the window, first at its start,
	// at in the middle, last just before its end, and after at its end.
	before, first, at, last, after time.Time
}

// newWindow returns a window that ended half an hour ago.
func newWindow() window {
	since := time.Now().UTC().Truncate(time.Millisecond).Add(-90 * time.Minute)
	until := since.Add(time.Hour)

	return window{
		since:  since,
		until:  until,
		before: since.Add(-time.Millisecond),
		first:  since,
		at:     since.Add(30 * time.Minute),
		last:   until.Add(-time.Millisecond),
		after:  until,
	}
}

// newRecovery returns actor's recovery of the tenant acme's endpoint over
// w.
func newRecovery(t *testing.T, endpointID string, w window) messages.Recovery {
	t.Helper()

	r, err := messages.NewRecovery(acme, endpointID, w.since, w.until, actor)
	require.NoError(t, err)

	return r
}

// createRecovery counts only the failed deliveries of the window to the
// endpoint, and queues the job that works the recovery.
func (s suite) createRecovery(t *testing.T) {
	t.Parallel()

	var (
		b         = s.setup(t)
		w         = newWindow()
		e         = b.createTenantEndpoint(t)
		elsewhere = b.createEndpoint(t, acme)
	)

	msgs := make([]messages.Message, 0, 5)

	for _, at := range []time.Time{w.before, w.first, w.at, w.last, w.after} {
		m := b.publishAt(t, at)
		b.giveUp(t, m.ID, e.ID)
		msgs = append(msgs, m)
	}

	pending := b.publishAt(t, w.at)
	done := b.publishAt(t, w.at)
	b.record(t, succeeded(attemptAt(t, done.ID, e.ID, 0)))
	b.giveUp(t, pending.ID, elsewhere.ID)
	b.giveUp(t, done.ID, elsewhere.ID)

	r := newRecovery(t, e.ID, w)

	got, err := b.Store.CreateRecovery(t.Context(), r)
	require.NoError(t, err)
	require.Equal(t, Enqueue{RecoveryID: r.ID}, b.lastEnqueued(t))
	require.Equal(t, int64(len(b.Enqueued())), got.JobID)

	want := r
	want.Total, want.JobID = 3, got.JobID
	require.Equal(t, want, got)
	require.Equal(t, messages.RecoveryRunning, got.Status)
	require.Zero(t, got.Queued)

	stored, err := b.Store.GetRecovery(t.Context(), acme, e.ID, r.ID)
	require.NoError(t, err)
	require.Equal(t, got, stored)

	// Nothing is replayed until the job works the recovery.
	for _, m := range msgs {
		d := b.delivery(t, m.ID, e.ID)
		require.Equal(t, messages.StatusFailed, d.Status)
		require.Zero(t, d.Round)
		require.Empty(t, b.replaysOf(t, m.ID))
	}
}

// createTenantEndpoint stores the tenant acme and an endpoint of it.
func (b *bundle) createTenantEndpoint(t *testing.T) subscriptions.Endpoint {
	t.Helper()

	b.putTenant(t, acme)

	return b.createEndpoint(t, acme)
}

// createRecoveryRefused asks for recoveries that cannot be: each is
// refused with its error, and nothing is stored or queued.
func (s suite) createRecoveryRefused(t *testing.T) {
	t.Parallel()

	var (
		b        = s.setup(t)
		w        = newWindow()
		e        = b.createTenantEndpoint(t)
		disabled = b.createEndpoint(t, acme)
	)

	b.putTenant(t, other)
	foreign := b.createEndpoint(t, other)
	require.NoError(t, b.Store.DisableEndpoint(t.Context(), disabled.ID, goneReason))
	b.giveUp(t, b.publishAt(t, w.at).ID, e.ID)

	tests := []struct {
		name     string
		tenantID string
		endpoint string
		want     error
	}{
		{name: "unknown endpoint", tenantID: acme, endpoint: unknownEndpoint, want: errNoEndpoint},
		{name: "another tenant's endpoint", tenantID: acme, endpoint: foreign.ID, want: errNoEndpoint},
		{name: "unknown tenant", tenantID: unknown, endpoint: e.ID, want: errNoEndpoint},
		{name: "disabled endpoint", tenantID: acme, endpoint: disabled.ID, want: errDisabled},
	}

	calls := len(b.Enqueued())

	for _, tt := range tests {
		r := newRecovery(t, tt.endpoint, w)
		r.TenantID = tt.tenantID

		got, err := b.Store.CreateRecovery(t.Context(), r)
		require.ErrorIs(t, err, tt.want, tt.name)
		require.Zero(t, got, tt.name)
	}

	// The refusal says why the endpoint was disabled.
	_, err := b.Store.CreateRecovery(t.Context(), newRecovery(t, disabled.ID, w))
	requireDisabledFor(t, err, goneReason)

	require.Len(t, b.Enqueued(), calls)

	// A recovery whose job cannot be queued is not stored.
	b.FailEnqueue(true)

	r := newRecovery(t, e.ID, w)
	_, err = b.Store.CreateRecovery(t.Context(), r)
	require.ErrorIs(t, err, ErrEnqueue)

	_, err = b.Store.GetRecovery(t.Context(), acme, e.ID, r.ID)
	require.ErrorIs(t, err, messages.ErrRecoveryNotFound)

	for _, endpointID := range []string{e.ID, disabled.ID} {
		got, err := b.Store.ListRecoveries(t.Context(), acme, endpointID, "", 10)
		require.NoError(t, err)
		require.Empty(t, got)
	}
}

// recoverNext works a recovery of five failed deliveries two at a time:
// each is replayed exactly once, in message id order, on record as part of
// the recovery, and the recovery ends done.
func (s suite) recoverNext(t *testing.T) {
	t.Parallel()

	var (
		b         = s.setup(t)
		w         = newWindow()
		e         = b.createTenantEndpoint(t)
		elsewhere = b.createEndpoint(t, acme)
		failed    = b.failedInWindow(t, e.ID, w, 5)

		// prior counts the rounds each of failed had before the recovery.
		prior = []int{1, 0, 0, 0, 0}
	)

	// The first was resent and given up again: it goes to round 2.
	b.resend(t, failed[0].ID, e.ID)
	b.giveUp(t, failed[0].ID, e.ID)

	var (
		pending = b.publishAt(t, w.at)
		outside = b.publishAt(t, w.after)
	)

	b.giveUp(t, outside.ID, e.ID)
	b.giveUp(t, pending.ID, elsewhere.ID)

	untouched := b.deliveriesOf(t, pending, outside)

	r, err := b.Store.CreateRecovery(t.Context(), newRecovery(t, e.ID, w))
	require.NoError(t, err)
	require.Equal(t, 5, r.Total)

	calls := len(b.Enqueued())

	for _, want := range []struct {
		status messages.RecoveryStatus
		queued int
		from   int
	}{
		{status: messages.RecoveryRunning, queued: 2, from: 0},
		{status: messages.RecoveryRunning, queued: 4, from: 2},
		{status: messages.RecoveryDone, queued: 5, from: 4},
	} {
		got, err := b.Store.RecoverNext(t.Context(), r.ID, 2)
		require.NoError(t, err)
		require.Equal(t, want.status, got.Status)
		require.Equal(t, want.queued, got.Queued)
		require.Equal(t, r.Total, got.Total)

		var refs []messages.Ref
		for i := want.from; i < want.queued; i++ {
			ref := messages.Ref{MessageID: failed[i].ID, EndpointID: e.ID, Round: prior[i] + 1}
			refs = append(refs, ref)
		}

		calls++
		require.Len(t, b.Enqueued(), calls)
		require.Equal(t, Enqueue{Refs: refs}, b.lastEnqueued(t))
	}

	done, err := b.Store.GetRecovery(t.Context(), acme, e.ID, r.ID)
	require.NoError(t, err)

	// Once done, the recovery stays as it is.
	again, err := b.Store.RecoverNext(t.Context(), r.ID, 2)
	require.NoError(t, err)
	require.Equal(t, done, again)
	require.Len(t, b.Enqueued(), calls)

	for i, m := range failed {
		d := b.delivery(t, m.ID, e.ID)
		require.Equal(t, messages.StatusPending, d.Status)
		require.Equal(t, prior[i]+1, d.Round)
		require.Equal(t, d.Attempts, d.RoundStart)

		replays := b.replaysOf(t, m.ID)
		require.Len(t, replays, prior[i]+1)
		b.requireRecovered(t, r, replays)
	}

	require.Equal(t, untouched, b.deliveriesOf(t, pending, outside))
}

// requireRecovered checks that replays hold exactly one replay by the
// recovery r.
func (b *bundle) requireRecovered(t *testing.T, r messages.Recovery, replays []messages.Replay) {
	t.Helper()

	i := slices.IndexFunc(replays, func(p messages.Replay) bool {
		return p.Kind == messages.ReplayRecover
	})
	require.GreaterOrEqual(t, i, 0, "no replay by the recovery")

	got := replays[i]
	require.Equal(t, messages.Replay{
		ID:         got.ID,
		TenantID:   r.TenantID,
		MessageID:  got.MessageID,
		EndpointID: r.EndpointID,
		Kind:       messages.ReplayRecover,
		RecoveryID: r.ID,
		Actor:      r.Actor,
		CreatedAt:  got.CreatedAt,
	}, got)
	require.WithinDuration(t, time.Now(), got.CreatedAt, time.Minute)

	for _, p := range replays[i+1:] {
		require.NotEqual(t, messages.ReplayRecover, p.Kind)
	}
}

// failedInWindow publishes n messages of the tenant acme a minute apart
// from the start of w, and gives up their deliveries to the endpoint.
func (b *bundle) failedInWindow(
	t *testing.T, endpointID string, w window, n int,
) []messages.Message {
	t.Helper()

	msgs := make([]messages.Message, n)

	for i := range msgs {
		msgs[i] = b.publishAt(t, w.since.Add(time.Duration(i)*time.Minute))
		b.giveUp(t, msgs[i].ID, endpointID)
	}

	return msgs
}

// deliveriesOf returns the deliveries of the tenant acme's msgs.
func (b *bundle) deliveriesOf(t *testing.T, msgs ...messages.Message) [][]messages.Delivery {
	t.Helper()

	out := make([][]messages.Delivery, len(msgs))

	for i, m := range msgs {
		_, deliveries, err := b.Store.GetMessage(t.Context(), acme, m.ID)
		require.NoError(t, err)

		out[i] = deliveries
	}

	return out
}

// recoverNextEnqueueFails works a recovery while jobs cannot be queued:
// nothing is replayed and the recovery does not move, so that the job can
// try the batch again.
func (s suite) recoverNextEnqueueFails(t *testing.T) {
	t.Parallel()

	var (
		b = s.setup(t)
		w = newWindow()
		e = b.createTenantEndpoint(t)
		m = b.publishAt(t, w.at)
	)

	b.giveUp(t, m.ID, e.ID)
	before := b.delivery(t, m.ID, e.ID)

	r, err := b.Store.CreateRecovery(t.Context(), newRecovery(t, e.ID, w))
	require.NoError(t, err)

	b.FailEnqueue(true)

	_, err = b.Store.RecoverNext(t.Context(), r.ID, 10)
	require.ErrorIs(t, err, ErrEnqueue)

	got, err := b.Store.GetRecovery(t.Context(), acme, e.ID, r.ID)
	require.NoError(t, err)
	require.Equal(t, r, got)
	require.Equal(t, before, b.delivery(t, m.ID, e.ID))
	require.Empty(t, b.replaysOf(t, m.ID))

	b.FailEnqueue(false)

	got, err = b.Store.RecoverNext(t.Context(), r.ID, 10)
	require.NoError(t, err)
	require.Equal(t, messages.RecoveryDone, got.Status)
	require.Equal(t, 1, got.Queued)
	require.Equal(t, 1, b.delivery(t, m.ID, e.ID).Round)
}

// recoverNextCanceled disables the endpoint while its recovery runs: the
// next batch cancels the recovery, says why, and replays nothing more.
func (s suite) recoverNextCanceled(t *testing.T) {
	t.Parallel()

	var (
		b    = s.setup(t)
		w    = newWindow()
		e    = b.createTenantEndpoint(t)
		msgs = b.failedInWindow(t, e.ID, w, 3)
	)

	r, err := b.Store.CreateRecovery(t.Context(), newRecovery(t, e.ID, w))
	require.NoError(t, err)

	first, err := b.Store.RecoverNext(t.Context(), r.ID, 1)
	require.NoError(t, err)
	require.Equal(t, messages.RecoveryRunning, first.Status)
	require.Equal(t, 1, first.Queued)

	require.NoError(t, b.Store.DisableEndpoint(t.Context(), e.ID, goneReason))

	calls := len(b.Enqueued())

	got, err := b.Store.RecoverNext(t.Context(), r.ID, 1)
	require.NoError(t, err)
	require.Equal(t, messages.RecoveryCanceled, got.Status)
	require.Equal(t, "endpoint disabled: "+goneReason, got.Reason)
	require.Equal(t, 1, got.Queued)
	require.Len(t, b.Enqueued(), calls)

	stored, err := b.Store.GetRecovery(t.Context(), acme, e.ID, r.ID)
	require.NoError(t, err)
	require.Equal(t, got, stored)

	// Once canceled, it stays canceled, even with the endpoint enabled.
	_, err = b.Store.UpdateEndpoint(t.Context(), acme, e.ID, func(e *subscriptions.Endpoint) error {
		e.Disabled, e.DisabledReason = false, ""
		return nil
	})
	require.NoError(t, err)

	again, err := b.Store.RecoverNext(t.Context(), r.ID, 1)
	require.NoError(t, err)
	require.Equal(t, stored, again)
	require.Len(t, b.Enqueued(), calls)

	for _, m := range msgs[1:] {
		require.Empty(t, b.replaysOf(t, m.ID))
		require.Zero(t, b.delivery(t, m.ID, e.ID).Round)
	}
}

// recoverNextNotFound works recoveries that are not there, or no longer:
// their endpoint was deleted with them.
func (s suite) recoverNextNotFound(t *testing.T) {
	t.Parallel()

	var (
		b = s.setup(t)
		w = newWindow()
		e = b.createTenantEndpoint(t)
	)

	r, err := b.Store.CreateRecovery(t.Context(), newRecovery(t, e.ID, w))
	require.NoError(t, err)
	require.NoError(t, b.Store.DeleteEndpoint(t.Context(), acme, e.ID))

	for _, id := range []string{unknownRecovery, r.ID, ""} {
		got, err := b.Store.RecoverNext(t.Context(), id, 10)
		require.ErrorIs(t, err, messages.ErrRecoveryNotFound, id)
		require.Zero(t, got)
	}
}

func (s suite) listRecoveries(t *testing.T) {
	t.Parallel()

	var (
		b         = s.setup(t)
		w         = newWindow()
		e         = b.createTenantEndpoint(t)
		elsewhere = b.createEndpoint(t, acme)
		quiet     = b.createEndpoint(t, acme)
		made      = make([]messages.Recovery, 3)
	)

	// Three recoveries a second apart, with ids that say so, and one of
	// another endpoint.
	for n := range made {
		r := newRecovery(t, e.ID, w)
		r.ID = idAt(t, "rcv", epoch.Add(time.Duration(n)*time.Second))

		var err error
		made[n], err = b.Store.CreateRecovery(t.Context(), r)
		require.NoError(t, err)
	}

	_, err := b.Store.CreateRecovery(t.Context(), newRecovery(t, elsewhere.ID, w))
	require.NoError(t, err)

	for _, r := range made {
		got, err := b.Store.GetRecovery(t.Context(), acme, e.ID, r.ID)
		require.NoError(t, err)
		require.Equal(t, r, got)
	}

	slices.Reverse(made)

	tests := []struct {
		name   string
		before string
		limit  int
		want   []messages.Recovery
	}{
		{name: "every recovery", limit: 10, want: made},
		{name: "newest two", limit: 2, want: made[:2]},
		{name: "none", limit: 0, want: []messages.Recovery{}},
		{name: "before the newest", before: made[0].ID, limit: 10, want: made[1:]},
		{name: "before the oldest", before: made[2].ID, limit: 10, want: []messages.Recovery{}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := b.Store.ListRecoveries(t.Context(), acme, e.ID, tt.before, tt.limit)
			require.NoError(t, err)
			requirePage(t, tt.want, got)
		})
	}

	got, err := b.Store.ListRecoveries(t.Context(), acme, quiet.ID, "", 10)
	require.NoError(t, err)
	require.Empty(t, got)
}

func (s suite) listRecoveriesNotFound(t *testing.T) {
	t.Parallel()

	var (
		b         = s.setup(t)
		w         = newWindow()
		e         = b.createTenantEndpoint(t)
		elsewhere = b.createEndpoint(t, acme)
	)

	b.putTenant(t, other)

	r, err := b.Store.CreateRecovery(t.Context(), newRecovery(t, e.ID, w))
	require.NoError(t, err)

	for _, tt := range missing(e.ID, unknownEndpoint) {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := b.Store.ListRecoveries(t.Context(), tt.tenantID, tt.id, "", 10)
			require.ErrorIs(t, err, subscriptions.ErrEndpointNotFound)
			require.Nil(t, got)

			_, err = b.Store.GetRecovery(t.Context(), tt.tenantID, tt.id, r.ID)
			require.ErrorIs(t, err, messages.ErrRecoveryNotFound)
		})
	}

	for _, id := range []string{unknownRecovery, ""} {
		_, err := b.Store.GetRecovery(t.Context(), acme, e.ID, id)
		require.ErrorIs(t, err, messages.ErrRecoveryNotFound)
	}

	// A recovery is found only through its own endpoint.
	_, err = b.Store.GetRecovery(t.Context(), acme, elsewhere.ID, r.ID)
	require.ErrorIs(t, err, messages.ErrRecoveryNotFound)
}
