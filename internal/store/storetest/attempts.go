package storetest

import (
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.jetify.com/typeid"

	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/subscriptions"
)

// gaveUp is the reason of the deliveries the tests give up.
const gaveUp = "gave up after 1 attempts"

var (
	// epoch is the start of the attempts the tests make.
	epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

	// attemptSeq makes the ids of attempts started at once unique.
	attemptSeq atomic.Int64
)

// attemptAt returns a failed attempt of the delivery started n seconds
// after epoch, with an id that sorts by n as the ids Herald makes sort by
// time.
func attemptAt(t *testing.T, messageID, endpointID string, n int) messages.Attempt {
	t.Helper()

	started := epoch.Add(time.Duration(n) * time.Second)
	ms := started.UnixMilli()

	id, err := typeid.FromUUIDWithPrefix("atm",
		fmt.Sprintf("%08x-%04x-7000-8000-%012x", ms>>16, ms&0xffff, attemptSeq.Add(1)))
	require.NoError(t, err)

	return messages.Attempt{
		ID:            id.String(),
		MessageID:     messageID,
		EndpointID:    endpointID,
		Number:        1,
		StartedAt:     started,
		Duration:      250 * time.Millisecond,
		StatusCode:    500,
		ResponseBody:  []byte("oops"),
		Error:         "the endpoint answered 500 Internal Server Error",
		NextAttemptAt: started.Add(time.Minute),
	}
}

// succeeded turns a into a successful attempt.
func succeeded(a messages.Attempt) messages.Attempt {
	a.Succeeded, a.StatusCode, a.Error, a.NextAttemptAt = true, 204, "", time.Time{}
	a.ResponseBody = []byte("ok")

	return a
}

// record stores a as a pending attempt, or a succeeded one when it
// succeeded.
func (b *bundle) record(t *testing.T, a messages.Attempt) messages.Attempt {
	t.Helper()

	status := messages.StatusPending
	if a.Succeeded {
		status = messages.StatusSucceeded
	}

	require.NoError(t, b.Store.RecordAttempt(t.Context(), a, status, ""))

	return a
}

// delivery returns the delivery of the tenant acme's message to endpoint.
func (b *bundle) delivery(t *testing.T, messageID, endpointID string) messages.Delivery {
	t.Helper()

	_, deliveries, err := b.Store.GetMessage(t.Context(), acme, messageID)
	require.NoError(t, err)

	i := slices.IndexFunc(deliveries, func(d messages.Delivery) bool { return d.EndpointID == endpointID })
	require.GreaterOrEqual(t, i, 0, "no delivery to %s", endpointID)

	return deliveries[i]
}

// ids returns the ids of attempts.
func ids(attempts []messages.Attempt) []string {
	out := make([]string, len(attempts))
	for i, a := range attempts {
		out[i] = a.ID
	}

	return out
}

// newestFirst returns the ids of attempts, given oldest first, newest
// first.
func newestFirst(attempts ...messages.Attempt) []string {
	out := ids(attempts)
	slices.Reverse(out)

	return out
}

func (s suite) attempts(t *testing.T) {
	t.Parallel()

	t.Run("record round trip", s.recordAttempt)
	t.Run("record without an answer", s.recordAttemptWithoutAnswer)
	t.Run("record a failed delivery", s.recordAttemptFailed)
	t.Run("record without delivery", s.recordAttemptWithoutDelivery)
	t.Run("list a message's, newest first", s.listMessageAttempts)
	t.Run("list a message's, not found", s.listMessageAttemptsNotFound)
	t.Run("list an endpoint's, newest first", s.listEndpointAttempts)
	t.Run("list an endpoint's, not found", s.listEndpointAttemptsNotFound)
}

func (s suite) recordAttempt(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)
	e := b.createEndpoint(t, acme)
	m := b.message(t)

	first := attemptAt(t, m.ID, e.ID, 0)
	first.Duration = 1234567 * time.Microsecond
	first.ResponseBody = []byte("not UTF-8: \xff\x00")
	b.record(t, first)

	got, err := b.Store.ListMessageAttempts(t.Context(), acme, m.ID, "", 10)
	require.NoError(t, err)
	require.Equal(t, []messages.Attempt{first}, got)

	require.Equal(t, messages.Delivery{
		MessageID:     m.ID,
		EndpointID:    e.ID,
		TenantID:      acme,
		EventType:     eventType,
		Status:        messages.StatusPending,
		Attempts:      1,
		NextAttemptAt: first.NextAttemptAt,
		UpdatedAt:     first.StartedAt.Add(first.Duration),
	}, b.delivery(t, m.ID, e.ID))

	second := succeeded(attemptAt(t, m.ID, e.ID, 60))
	second.Number = 2
	b.record(t, second)

	got, err = b.Store.ListMessageAttempts(t.Context(), acme, m.ID, "", 10)
	require.NoError(t, err)
	require.Equal(t, []messages.Attempt{second, first}, got)

	require.Equal(t, messages.Delivery{
		MessageID:  m.ID,
		EndpointID: e.ID,
		TenantID:   acme,
		EventType:  eventType,
		Status:     messages.StatusSucceeded,
		Attempts:   2,
		UpdatedAt:  second.StartedAt.Add(second.Duration),
	}, b.delivery(t, m.ID, e.ID))
}

// recordAttemptWithoutAnswer records a try that got no answer at all: no
// status code and no response body.
func (s suite) recordAttemptWithoutAnswer(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)
	e := b.createEndpoint(t, acme)
	m := b.message(t)

	a := attemptAt(t, m.ID, e.ID, 0)
	a.StatusCode, a.ResponseBody = 0, nil
	a.Error = "dial tcp 10.0.0.1:443: connect: connection refused"
	require.NoError(t, b.Store.RecordAttempt(t.Context(), a, messages.StatusPending, ""))

	got, err := b.Store.ListMessageAttempts(t.Context(), acme, m.ID, "", 10)
	require.NoError(t, err)
	require.Len(t, got, 1)

	// No body reads back empty, nil or not.
	require.Empty(t, got[0].ResponseBody)
	got[0].ResponseBody = nil
	require.Equal(t, a, got[0])
}

func (s suite) recordAttemptFailed(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)
	e := b.createEndpoint(t, acme)
	m := b.message(t)

	a := attemptAt(t, m.ID, e.ID, 0)
	a.NextAttemptAt = time.Time{}
	require.NoError(t, b.Store.RecordAttempt(t.Context(), a, messages.StatusFailed, gaveUp))

	require.Equal(t, messages.Delivery{
		MessageID:  m.ID,
		EndpointID: e.ID,
		TenantID:   acme,
		EventType:  eventType,
		Status:     messages.StatusFailed,
		Attempts:   1,
		Reason:     gaveUp,
		UpdatedAt:  a.StartedAt.Add(a.Duration),
	}, b.delivery(t, m.ID, e.ID))

	got, err := b.Store.ListMessageAttempts(t.Context(), acme, m.ID, "", 10)
	require.NoError(t, err)
	require.Equal(t, []messages.Attempt{a}, got)
}

// recordAttemptWithoutDelivery records an attempt of a delivery that is
// gone with its endpoint: the store refuses it.
func (s suite) recordAttemptWithoutDelivery(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)
	e := b.createEndpoint(t, acme)
	m := b.message(t)
	require.NoError(t, b.Store.DeleteEndpoint(t.Context(), acme, e.ID))

	err := b.Store.RecordAttempt(t.Context(), attemptAt(t, m.ID, e.ID, 0), messages.StatusPending, "")
	require.Error(t, err)

	got, err := b.Store.ListMessageAttempts(t.Context(), acme, m.ID, "", 10)
	require.NoError(t, err)
	require.Empty(t, got)
}

func (s suite) listMessageAttempts(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)

	var (
		e1    = b.createEndpoint(t, acme)
		e2    = b.createEndpoint(t, acme)
		m     = b.message(t)
		quiet = b.message(t)
		noise = b.message(t)
		made  = make([]messages.Attempt, 0, 5)
	)

	// Five attempts at the two endpoints, interleaved, and one of another
	// message.
	for n := range 5 {
		a := attemptAt(t, m.ID, []string{e1.ID, e2.ID}[n%2], n*10)
		a.Number = n/2 + 1
		made = append(made, b.record(t, a))
	}

	b.record(t, attemptAt(t, noise.ID, e1.ID, 25))

	tests := []struct {
		name   string
		before string
		limit  int
		want   []string
	}{
		{name: "every attempt", limit: 10, want: newestFirst(made...)},
		{name: "newest two", limit: 2, want: newestFirst(made[3:]...)},
		{name: "two before the fourth", before: made[3].ID, limit: 2, want: newestFirst(made[1:3]...)},
		{name: "the oldest", before: made[1].ID, limit: 2, want: newestFirst(made[0])},
		{name: "before the oldest", before: made[0].ID, limit: 2, want: []string{}},
		{name: "cursor between ids", before: made[2].ID + "0", limit: 10, want: newestFirst(made[:3]...)},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := b.Store.ListMessageAttempts(t.Context(), acme, m.ID, tt.before, tt.limit)
			require.NoError(t, err)
			require.Equal(t, tt.want, ids(got))
		})
	}

	got, err := b.Store.ListMessageAttempts(t.Context(), acme, quiet.ID, "", 10)
	require.NoError(t, err)
	require.Empty(t, got)
}

func (s suite) listMessageAttemptsNotFound(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)
	b.putTenant(t, other)
	e := b.createEndpoint(t, acme)
	m := b.message(t)
	a := b.record(t, attemptAt(t, m.ID, e.ID, 0))

	for _, tt := range missing(m.ID, unknownMessage) {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			// Before its attempts or not, the page is an error, not empty.
			for _, before := range []string{"", a.ID} {
				got, err := b.Store.ListMessageAttempts(t.Context(), tt.tenantID, tt.id, before, 10)
				require.ErrorIs(t, err, messages.ErrNotFound)
				require.Nil(t, got)
			}
		})
	}
}

func (s suite) listEndpointAttempts(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)

	var (
		e         = b.createEndpoint(t, acme)
		elsewhere = b.createEndpoint(t, acme)
		quiet     = b.createEndpoint(t, acme)
		m1        = b.message(t)
		m2        = b.message(t)
	)

	// Each message fails once at e, then succeeds; m2 starts later.
	var (
		failed = []messages.Attempt{
			b.record(t, attemptAt(t, m1.ID, e.ID, 0)),
			b.record(t, attemptAt(t, m2.ID, e.ID, 10)),
		}
		ok = []messages.Attempt{
			b.record(t, succeeded(attemptAt(t, m1.ID, e.ID, 20))),
			b.record(t, succeeded(attemptAt(t, m2.ID, e.ID, 30))),
		}
		all = []messages.Attempt{failed[0], failed[1], ok[0], ok[1]}
		yes = true
		no  = false
	)

	b.record(t, attemptAt(t, m1.ID, elsewhere.ID, 15))

	tests := []struct {
		name      string
		succeeded *bool
		before    string
		limit     int
		want      []string
	}{
		{name: "every attempt", limit: 10, want: newestFirst(all...)},
		{name: "succeeded", succeeded: &yes, limit: 10, want: newestFirst(ok...)},
		{name: "failed", succeeded: &no, limit: 10, want: newestFirst(failed...)},
		{name: "newest three", limit: 3, want: newestFirst(all[1:]...)},
		{name: "before the third", before: all[1].ID, limit: 3, want: newestFirst(all[0])},
		{name: "failed before the newest", succeeded: &no, before: failed[1].ID, limit: 10, want: ids(failed[:1])},
		{name: "failed, one at a time", succeeded: &no, limit: 1, want: ids(failed[1:])},
		{name: "succeeded before the newest", succeeded: &yes, before: ok[1].ID, limit: 10, want: ids(ok[:1])},
		{name: "succeeded before the first", succeeded: &yes, before: ok[0].ID, limit: 10, want: []string{}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			filter := messages.AttemptFilter{Succeeded: tt.succeeded}
			got, err := b.Store.ListEndpointAttempts(t.Context(), acme, e.ID, filter, tt.before, tt.limit)
			require.NoError(t, err)
			require.Equal(t, tt.want, ids(got))
		})
	}

	got, err := b.Store.ListEndpointAttempts(t.Context(), acme, quiet.ID, messages.AttemptFilter{}, "", 10)
	require.NoError(t, err)
	require.Empty(t, got)
}

func (s suite) listEndpointAttemptsNotFound(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)
	b.putTenant(t, other)
	e := b.createEndpoint(t, acme)
	b.record(t, attemptAt(t, b.message(t).ID, e.ID, 0))

	var (
		yes = true
		no  = false
	)

	for _, tt := range missing(e.ID, unknownEndpoint) {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			for _, succeeded := range []*bool{nil, &yes, &no} {
				filter := messages.AttemptFilter{Succeeded: succeeded}
				got, err := b.Store.ListEndpointAttempts(t.Context(), tt.tenantID, tt.id, filter, "", 10)
				require.ErrorIs(t, err, subscriptions.ErrEndpointNotFound)
				require.Nil(t, got)
			}
		})
	}
}
