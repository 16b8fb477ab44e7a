package postgres_test

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

var (
	// epoch is the start of the attempts the tests make.
	epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

	// attemptSeq makes the ids of attempts started at once unique.
	attemptSeq atomic.Int64
)

// attemptAt returns an attempt of the delivery started n seconds after
// epoch, with an id that sorts by n as the ids Herald makes sort by time.
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

// record stores a as a pending attempt, or a succeeded one when it
// succeeded.
func (b *testBundle) record(t *testing.T, a messages.Attempt) messages.Attempt {
	t.Helper()

	status := messages.StatusPending
	if a.Succeeded {
		status = messages.StatusSucceeded
	}

	require.NoError(t, b.store.RecordAttempt(t.Context(), a, status, ""))

	return a
}

// succeeded turns a into a successful attempt.
func succeeded(a messages.Attempt) messages.Attempt {
	a.Succeeded, a.StatusCode, a.Error, a.NextAttemptAt = true, 204, "", time.Time{}
	a.ResponseBody = []byte{}

	return a
}

// delivery returns the delivery of the tenant acme's message to endpoint.
func (b *testBundle) delivery(t *testing.T, messageID, endpointID string) messages.Delivery {
	t.Helper()

	_, deliveries, err := b.store.GetMessage(t.Context(), "acme", messageID)
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

// reversed returns the attempts' ids newest first.
func reversed(attempts ...messages.Attempt) []string {
	out := ids(attempts)
	slices.Reverse(out)

	return out
}

func TestRecordAttempt(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")
	e := b.addEndpoint(t, "acme", subscriptions.EndpointParams{})
	m := b.publish(t, newMessage(t, "acme", "invoice.paid", "", `{}`)).Message

	first := attemptAt(t, m.ID, e.ID, 0)
	first.Duration = 1234567 * time.Microsecond
	first.ResponseBody = []byte("not UTF-8: \xff\x00")
	b.record(t, first)

	got, err := b.store.ListMessageAttempts(t.Context(), "acme", m.ID, "", 10)
	require.NoError(t, err)
	require.Equal(t, []messages.Attempt{first}, got)

	require.Equal(t, messages.Delivery{
		MessageID:     m.ID,
		EndpointID:    e.ID,
		Status:        messages.StatusPending,
		Attempts:      1,
		NextAttemptAt: first.NextAttemptAt,
		UpdatedAt:     first.StartedAt.Add(first.Duration),
	}, b.delivery(t, m.ID, e.ID))

	second := succeeded(attemptAt(t, m.ID, e.ID, 60))
	second.Number = 2
	b.record(t, second)

	got, err = b.store.ListMessageAttempts(t.Context(), "acme", m.ID, "", 10)
	require.NoError(t, err)
	require.Equal(t, []messages.Attempt{second, first}, got)

	require.Equal(t, messages.Delivery{
		MessageID:  m.ID,
		EndpointID: e.ID,
		Status:     messages.StatusSucceeded,
		Attempts:   2,
		UpdatedAt:  second.StartedAt.Add(second.Duration),
	}, b.delivery(t, m.ID, e.ID))
}

func TestRecordAttemptFailed(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")
	e := b.addEndpoint(t, "acme", subscriptions.EndpointParams{})
	m := b.publish(t, newMessage(t, "acme", "invoice.paid", "", `{}`)).Message

	a := attemptAt(t, m.ID, e.ID, 0)
	a.NextAttemptAt = time.Time{}
	require.NoError(t, b.store.RecordAttempt(t.Context(), a, messages.StatusFailed, "gave up after 1 attempts"))

	d := b.delivery(t, m.ID, e.ID)
	require.Equal(t, messages.StatusFailed, d.Status)
	require.Equal(t, "gave up after 1 attempts", d.Reason)
	require.True(t, d.NextAttemptAt.IsZero())
}

// TestRecordAttemptWithoutAnswer records what a try that got no answer at
// all makes: no status code and no response body.
func TestRecordAttemptWithoutAnswer(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")
	e := b.addEndpoint(t, "acme", subscriptions.EndpointParams{})
	m := b.publish(t, newMessage(t, "acme", "invoice.paid", "", `{}`)).Message

	a := attemptAt(t, m.ID, e.ID, 0)
	a.StatusCode, a.ResponseBody, a.Error = 0, nil, "dial tcp 10.0.0.1:443: connect: connection refused"
	require.NoError(t, b.store.RecordAttempt(t.Context(), a, messages.StatusPending, ""))

	got, err := b.store.ListMessageAttempts(t.Context(), "acme", m.ID, "", 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Zero(t, got[0].StatusCode)
	require.Empty(t, got[0].ResponseBody)
	require.Equal(t, a.Error, got[0].Error)
}

func TestRecordAttemptWithoutDelivery(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")
	e := b.addEndpoint(t, "acme", subscriptions.EndpointParams{})
	m := b.publish(t, newMessage(t, "acme", "invoice.paid", "", `{}`)).Message
	require.NoError(t, b.store.DeleteEndpoint(t.Context(), "acme", e.ID))

	err := b.store.RecordAttempt(t.Context(), attemptAt(t, m.ID, e.ID, 0), messages.StatusPending, "")
	require.Error(t, err)
}

func TestListMessageAttempts(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")
	b.putTenant(t, "other")

	e1 := b.addEndpoint(t, "acme", subscriptions.EndpointParams{})
	e2 := b.addEndpoint(t, "acme", subscriptions.EndpointParams{})
	m := b.publish(t, newMessage(t, "acme", "invoice.paid", "", `{}`)).Message
	quiet := b.publish(t, newMessage(t, "acme", "invoice.paid", "", `{}`)).Message
	noise := b.publish(t, newMessage(t, "acme", "invoice.paid", "", `{}`)).Message

	// Five attempts at the two endpoints, interleaved, and one of another
	// message.
	made := make([]messages.Attempt, 0, 5)

	for n := range 5 {
		e := []string{e1.ID, e2.ID}[n%2]
		a := attemptAt(t, m.ID, e, n*10)
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
		{name: "all, newest first", limit: 10, want: reversed(made...)},
		{name: "first page", limit: 2, want: reversed(made[3:]...)},
		{name: "second page", before: made[3].ID, limit: 2, want: reversed(made[1:3]...)},
		{name: "last page", before: made[1].ID, limit: 2, want: reversed(made[0])},
		{name: "past the end", before: made[0].ID, limit: 2, want: []string{}},
		{name: "cursor between ids", before: made[2].ID + "0", limit: 10, want: reversed(made[:3]...)},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := b.store.ListMessageAttempts(t.Context(), "acme", m.ID, tt.before, tt.limit)
			require.NoError(t, err)
			require.Equal(t, tt.want, ids(got))

			for _, a := range got {
				require.Equal(t, m.ID, a.MessageID)
			}
		})
	}

	t.Run("message without attempts", func(t *testing.T) {
		t.Parallel()

		got, err := b.store.ListMessageAttempts(t.Context(), "acme", quiet.ID, "", 10)
		require.NoError(t, err)
		require.Empty(t, got)
	})

	notFound := []struct {
		name     string
		tenantID string
		id       string
		before   string
	}{
		{name: "another tenant's message", tenantID: "other", id: m.ID},
		{name: "another tenant's message past its attempts", tenantID: "other", id: m.ID, before: made[0].ID},
		{name: "unknown tenant", tenantID: "ghost", id: m.ID},
		{name: "unknown message", tenantID: "acme", id: "msg_01jbq6q6ffe5x9qf2a8n1c3m4z"},
	}

	for _, tt := range notFound {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := b.store.ListMessageAttempts(t.Context(), tt.tenantID, tt.id, tt.before, 10)
			require.ErrorIs(t, err, messages.ErrNotFound)
			require.Nil(t, got)
		})
	}
}

func TestListEndpointAttempts(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")
	b.putTenant(t, "other")

	var (
		e     = b.addEndpoint(t, "acme", subscriptions.EndpointParams{})
		other = b.addEndpoint(t, "acme", subscriptions.EndpointParams{})
		quiet = b.addEndpoint(t, "acme", subscriptions.EndpointParams{})
		m1    = b.publish(t, newMessage(t, "acme", "invoice.paid", "", `{}`)).Message
		m2    = b.publish(t, newMessage(t, "acme", "invoice.paid", "", `{}`)).Message
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
	)

	b.record(t, attemptAt(t, m1.ID, other.ID, 15))

	var (
		yes = true
		no  = false
	)

	tests := []struct {
		name      string
		succeeded *bool
		before    string
		limit     int
		want      []string
	}{
		{name: "all, newest first", limit: 10, want: reversed(all...)},
		{name: "succeeded", succeeded: &yes, limit: 10, want: reversed(ok...)},
		{name: "failed", succeeded: &no, limit: 10, want: reversed(failed...)},
		{name: "first page", limit: 3, want: reversed(all[1:]...)},
		{name: "second page", before: all[1].ID, limit: 3, want: reversed(all[0])},
		{name: "failed before the newest failure", succeeded: &no, before: failed[1].ID, limit: 10, want: reversed(failed[0])},
		{name: "succeeded, one at a time", succeeded: &yes, limit: 1, want: reversed(ok[1])},
		{name: "succeeded before the first success", succeeded: &yes, before: ok[0].ID, limit: 10, want: []string{}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := b.store.ListEndpointAttempts(t.Context(), "acme", e.ID, tt.succeeded, tt.before, tt.limit)
			require.NoError(t, err)
			require.Equal(t, tt.want, ids(got))

			for _, a := range got {
				require.Equal(t, e.ID, a.EndpointID)
			}
		})
	}

	t.Run("endpoint without attempts", func(t *testing.T) {
		t.Parallel()

		got, err := b.store.ListEndpointAttempts(t.Context(), "acme", quiet.ID, nil, "", 10)
		require.NoError(t, err)
		require.Empty(t, got)
	})

	notFound := []struct {
		name     string
		tenantID string
		id       string
	}{
		{name: "another tenant's endpoint", tenantID: "other", id: e.ID},
		{name: "unknown tenant", tenantID: "ghost", id: e.ID},
		{name: "unknown endpoint", tenantID: "acme", id: "ep_01jbq6q6ffe5x9qf2a8n1c3m4z"},
	}

	for _, tt := range notFound {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			for _, filter := range []*bool{nil, &yes, &no} {
				got, err := b.store.ListEndpointAttempts(t.Context(), tt.tenantID, tt.id, filter, "", 10)
				require.ErrorIs(t, err, subscriptions.ErrEndpointNotFound)
				require.Nil(t, got)
			}
		})
	}
}

func TestLoadTarget(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")

	e := b.addEndpoint(t, "acme", subscriptions.EndpointParams{
		EventTypes: []string{"invoice.*"},
		Headers:    map[string]string{"Authorization": "Bearer t0k3n"},
	})
	e.RotateSecret(newSecret(t))
	_, err := b.store.UpdateEndpoint(t.Context(), "acme", e.ID, func(stored *subscriptions.Endpoint) error {
		*stored = e
		return nil
	})
	require.NoError(t, err)

	e, err = b.store.GetEndpoint(t.Context(), "acme", e.ID)
	require.NoError(t, err)
	require.Len(t, e.PreviousSecrets, 1)

	m := b.publish(t, newMessage(t, "acme", "invoice.paid", "", " {\"exact\" :  \"bytes\"} ")).Message

	target, err := b.store.LoadTarget(t.Context(), m.ID, e.ID)
	require.NoError(t, err)
	require.Equal(t, messages.Target{
		Delivery: messages.Delivery{
			MessageID:  m.ID,
			EndpointID: e.ID,
			Status:     messages.StatusPending,
		},
		Payload:  m.Payload,
		Endpoint: e,
	}, target)

	b.record(t, attemptAt(t, m.ID, e.ID, 0))

	target, err = b.store.LoadTarget(t.Context(), m.ID, e.ID)
	require.NoError(t, err)
	require.Equal(t, 1, target.Delivery.Attempts)
	require.Equal(t, messages.StatusPending, target.Delivery.Status)
}

func TestLoadTargetGone(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")

	t.Run("endpoint deleted", func(t *testing.T) {
		t.Parallel()

		e := b.addEndpoint(t, "acme", subscriptions.EndpointParams{})
		m := b.publish(t, newMessage(t, "acme", "invoice.paid", "", `{}`)).Message
		require.NoError(t, b.store.DeleteEndpoint(t.Context(), "acme", e.ID))

		_, err := b.store.LoadTarget(t.Context(), m.ID, e.ID)
		require.ErrorIs(t, err, messages.ErrNotFound)
	})

	t.Run("message deleted", func(t *testing.T) {
		t.Parallel()

		e := b.addEndpoint(t, "acme", subscriptions.EndpointParams{})
		m := b.publish(t, newMessage(t, "acme", "invoice.paid", "", `{}`)).Message

		_, err := b.db.Pool.Exec(t.Context(), "DELETE FROM messages WHERE id = $1", m.ID)
		require.NoError(t, err)

		_, err = b.store.LoadTarget(t.Context(), m.ID, e.ID)
		require.ErrorIs(t, err, messages.ErrNotFound)
	})

	t.Run("no delivery between them", func(t *testing.T) {
		t.Parallel()

		m := b.publish(t, newMessage(t, "acme", "invoice.paid", "", `{}`)).Message
		e := b.addEndpoint(t, "acme", subscriptions.EndpointParams{}) // added after

		_, err := b.store.LoadTarget(t.Context(), m.ID, e.ID)
		require.ErrorIs(t, err, messages.ErrNotFound)
	})

	t.Run("unknown ids", func(t *testing.T) {
		t.Parallel()

		_, err := b.store.LoadTarget(t.Context(), "msg_01jbq6q6ffe5x9qf2a8n1c3m4z", "ep_01jbq6q6ffe5x9qf2a8n1c3m4z")
		require.ErrorIs(t, err, messages.ErrNotFound)
	})
}

func TestFailDelivery(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")

	var (
		pending = b.addEndpoint(t, "acme", subscriptions.EndpointParams{})
		done    = b.addEndpoint(t, "acme", subscriptions.EndpointParams{})
		m       = b.publish(t, newMessage(t, "acme", "invoice.paid", "", `{}`)).Message
	)

	b.record(t, attemptAt(t, m.ID, pending.ID, 0))
	b.record(t, succeeded(attemptAt(t, m.ID, done.ID, 0)))
	before := b.delivery(t, m.ID, done.ID)

	for _, e := range []subscriptions.Endpoint{pending, done} {
		require.NoError(t, b.store.FailDelivery(t.Context(), m.ID, e.ID, "endpoint disabled: paused"))
	}

	failed := b.delivery(t, m.ID, pending.ID)
	require.Equal(t, messages.StatusFailed, failed.Status)
	require.Equal(t, "endpoint disabled: paused", failed.Reason)
	require.Equal(t, 1, failed.Attempts)
	require.True(t, failed.NextAttemptAt.IsZero())

	// Only a pending delivery is given up.
	require.Equal(t, before, b.delivery(t, m.ID, done.ID))

	require.NoError(t, b.store.FailDelivery(t.Context(), m.ID, pending.ID, "another reason"))
	require.Equal(t, failed, b.delivery(t, m.ID, pending.ID))

	// A missing delivery is no error: there is nothing left to give up.
	require.NoError(t, b.store.FailDelivery(t.Context(), m.ID, "ep_01jbq6q6ffe5x9qf2a8n1c3m4z", "gone"))
}

func TestDisableEndpoint(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")

	var (
		e      = b.addEndpoint(t, "acme", subscriptions.EndpointParams{})
		other  = b.addEndpoint(t, "acme", subscriptions.EndpointParams{})
		done   = b.publish(t, newMessage(t, "acme", "invoice.paid", "", `{}`)).Message
		retry  = b.publish(t, newMessage(t, "acme", "invoice.paid", "", `{}`)).Message
		queued = b.publish(t, newMessage(t, "acme", "invoice.paid", "", `{}`)).Message
	)

	b.record(t, succeeded(attemptAt(t, done.ID, e.ID, 0)))
	b.record(t, attemptAt(t, retry.ID, e.ID, 10))

	succeededBefore := b.delivery(t, done.ID, e.ID)

	require.NoError(t, b.store.DisableEndpoint(t.Context(), e.ID, "the endpoint answered 410 Gone"))

	got, err := b.store.GetEndpoint(t.Context(), "acme", e.ID)
	require.NoError(t, err)
	require.True(t, got.Disabled)
	require.Equal(t, "the endpoint answered 410 Gone", got.DisabledReason)

	for _, m := range []messages.Message{retry, queued} {
		d := b.delivery(t, m.ID, e.ID)
		require.Equal(t, messages.StatusFailed, d.Status, m.ID)
		require.Equal(t, "endpoint disabled: the endpoint answered 410 Gone", d.Reason)
		require.True(t, d.NextAttemptAt.IsZero())
	}

	require.Equal(t, succeededBefore, b.delivery(t, done.ID, e.ID))

	// Another endpoint's deliveries and state are untouched.
	for _, m := range []messages.Message{done, retry, queued} {
		d := b.delivery(t, m.ID, other.ID)
		require.Equal(t, messages.StatusPending, d.Status)
		require.Empty(t, d.Reason)
	}

	untouched, err := b.store.GetEndpoint(t.Context(), "acme", other.ID)
	require.NoError(t, err)
	require.False(t, untouched.Disabled)

	// New messages no longer go to the disabled endpoint.
	p := b.publish(t, newMessage(t, "acme", "invoice.paid", "", `{}`))
	require.Equal(t, 1, p.Endpoints)
}
