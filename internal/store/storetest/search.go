package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.jetify.com/typeid"

	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/subscriptions"
)

// The event types of the messages that are not of eventType, and one of
// no message.
const (
	otherType  = "refund.paid"
	unseenType = "order.shipped"
)

// idAt returns a fresh id with prefix of an object made at at, as Herald's
// ids are: it sorts after the ids of earlier milliseconds, and after those
// idAt returned before.
func idAt(t *testing.T, prefix string, at time.Time) string {
	t.Helper()

	ms := at.UnixMilli()

	id, err := typeid.FromUUIDWithPrefix(prefix,
		fmt.Sprintf("%08x-%04x-7000-8000-%012x", ms>>16, ms&0xffff, attemptSeq.Add(1)))
	require.NoError(t, err)

	return id.String()
}

// minute returns the time n minutes after epoch.
func minute(n int) time.Time {
	return epoch.Add(time.Duration(n) * time.Minute)
}

// typedAt publishes a message of the tenant acme with the event type,
// made at at.
func (b *bundle) typedAt(t *testing.T, typ string, at time.Time) messages.Message {
	t.Helper()

	m := newMessage(t, acme, typ, "", "{}")
	m.ID, m.CreatedAt = idAt(t, "msg", at), at

	return b.publish(t, m).Message
}

// fail records a failed attempt of the delivery of the message to the
// endpoint that gives it up.
func (b *bundle) fail(t *testing.T, messageID, endpointID string) {
	t.Helper()

	a := attemptAt(t, messageID, endpointID, 0)
	a.NextAttemptAt = time.Time{}
	require.NoError(t, b.Store.RecordAttempt(t.Context(), a, messages.StatusFailed, gaveUp))
}

// key returns the place of the delivery of m to e in a listing.
func key(m messages.Message, e subscriptions.Endpoint) messages.DeliveryKey {
	return messages.DeliveryKey{MessageID: m.ID, EndpointID: e.ID}
}

// keys returns the places of deliveries in a listing.
func keys(deliveries []messages.Delivery) []messages.DeliveryKey {
	out := make([]messages.DeliveryKey, len(deliveries))
	for i, d := range deliveries {
		out[i] = messages.DeliveryKey{MessageID: d.MessageID, EndpointID: d.EndpointID}
	}

	return out
}

// searched is the tenant acme with two endpoints and four messages, one a
// minute from epoch, of alternating types, whose eight deliveries stand
// as follows, with one failed delivery of the tenant other beside them.
//
//	        m[0] invoice  m[1] refund  m[2] invoice  m[3] refund
//	e[0]    failed        succeeded    failed        pending
//	e[1]    succeeded     failed       pending       failed
type searched struct {
	e []subscriptions.Endpoint
	m []messages.Message
}

// k returns the key of the delivery of message i to endpoint j.
func (f searched) k(i, j int) messages.DeliveryKey {
	return key(f.m[i], f.e[j])
}

func (b *bundle) searched(t *testing.T) searched {
	t.Helper()

	b.putTenant(t, acme)
	b.putTenant(t, other)

	f := searched{e: []subscriptions.Endpoint{b.createEndpoint(t, acme), b.createEndpoint(t, acme)}}
	foreign := b.createEndpoint(t, other)

	for n, typ := range []string{eventType, otherType, eventType, otherType} {
		f.m = append(f.m, b.typedAt(t, typ, minute(n)))
	}

	theirs := newMessage(t, other, eventType, "", "{}")
	theirs.ID, theirs.CreatedAt = idAt(t, "msg", minute(2)), minute(2)
	b.publish(t, theirs)
	b.fail(t, theirs.ID, foreign.ID)

	b.fail(t, f.m[0].ID, f.e[0].ID)
	b.record(t, succeeded(attemptAt(t, f.m[0].ID, f.e[1].ID, 0)))
	b.record(t, succeeded(attemptAt(t, f.m[1].ID, f.e[0].ID, 0)))
	b.fail(t, f.m[1].ID, f.e[1].ID)
	b.fail(t, f.m[2].ID, f.e[0].ID)
	b.fail(t, f.m[3].ID, f.e[1].ID)

	return f
}

func (s suite) search(t *testing.T) {
	t.Parallel()

	t.Run("deliveries newest first", s.listDeliveries)
	t.Run("deliveries filtered", s.listDeliveriesFiltered)
	t.Run("deliveries in a window", s.listDeliveriesInWindow)
	t.Run("deliveries page by page", s.listDeliveriesPages)
	t.Run("deliveries pages stay put as messages arrive", s.listDeliveriesStable)
	t.Run("deliveries of a missing tenant", s.listDeliveriesNotFound)
	t.Run("endpoint attempts by event type", s.listEndpointAttemptsByType)
	t.Run("endpoint attempts in a window", s.listEndpointAttemptsInWindow)
	t.Run("endpoint attempts of a missing endpoint", s.listEndpointAttemptsFilteredNotFound)
}

// listDeliveries lists every delivery of the tenant, by message then
// endpoint, newest first, each as GetMessage shows it.
func (s suite) listDeliveries(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	f := b.searched(t)

	got, err := b.Store.ListDeliveries(t.Context(), acme, messages.DeliveryFilter{}, messages.DeliveryKey{}, 100)
	require.NoError(t, err)

	require.Equal(t, []messages.DeliveryKey{
		f.k(3, 1), f.k(3, 0), f.k(2, 1), f.k(2, 0), f.k(1, 1), f.k(1, 0), f.k(0, 1), f.k(0, 0),
	}, keys(got))

	for _, d := range got {
		require.Equal(t, b.delivery(t, d.MessageID, d.EndpointID), d)
	}

	want := b.delivery(t, f.m[1].ID, f.e[1].ID)
	require.Equal(t, messages.StatusFailed, want.Status)
	require.Equal(t, acme, want.TenantID)
	require.Equal(t, otherType, want.EventType)
}

// deliveryCase is a filter of the deliveries of [searched] and what it
// keeps.
type deliveryCase struct {
	name   string
	filter messages.DeliveryFilter
	want   []messages.DeliveryKey
}

// requireDeliveries lists the tenant acme's deliveries with each filter.
func (b *bundle) requireDeliveries(t *testing.T, tests []deliveryCase) {
	t.Helper()

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := b.Store.ListDeliveries(t.Context(), acme, tt.filter, messages.DeliveryKey{}, 100)
			require.NoError(t, err)
			require.Equal(t, tt.want, keys(got))
		})
	}
}

func (s suite) listDeliveriesFiltered(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	f := b.searched(t)

	b.requireDeliveries(t, []deliveryCase{
		{
			name:   "status failed",
			filter: messages.DeliveryFilter{Status: messages.StatusFailed},
			want:   []messages.DeliveryKey{f.k(3, 1), f.k(2, 0), f.k(1, 1), f.k(0, 0)},
		},
		{
			name:   "status succeeded",
			filter: messages.DeliveryFilter{Status: messages.StatusSucceeded},
			want:   []messages.DeliveryKey{f.k(1, 0), f.k(0, 1)},
		},
		{
			name:   "status pending",
			filter: messages.DeliveryFilter{Status: messages.StatusPending},
			want:   []messages.DeliveryKey{f.k(3, 0), f.k(2, 1)},
		},
		{
			name:   "event type",
			filter: messages.DeliveryFilter{EventType: otherType},
			want:   []messages.DeliveryKey{f.k(3, 1), f.k(3, 0), f.k(1, 1), f.k(1, 0)},
		},
		{
			name:   "endpoint",
			filter: messages.DeliveryFilter{EndpointID: f.e[0].ID},
			want:   []messages.DeliveryKey{f.k(3, 0), f.k(2, 0), f.k(1, 0), f.k(0, 0)},
		},
		{
			name:   "failed at an endpoint",
			filter: messages.DeliveryFilter{Status: messages.StatusFailed, EndpointID: f.e[1].ID},
			want:   []messages.DeliveryKey{f.k(3, 1), f.k(1, 1)},
		},
		{
			name: "failed of a type at an endpoint",
			filter: messages.DeliveryFilter{
				Status: messages.StatusFailed, EventType: eventType, EndpointID: f.e[0].ID,
			},
			want: []messages.DeliveryKey{f.k(2, 0), f.k(0, 0)},
		},
		{
			name:   "an unknown event type",
			filter: messages.DeliveryFilter{EventType: unseenType},
			want:   []messages.DeliveryKey{},
		},
		{
			name:   "an unknown endpoint",
			filter: messages.DeliveryFilter{EndpointID: unknownEndpoint},
			want:   []messages.DeliveryKey{},
		},
	})
}

// listDeliveriesInWindow bounds the time the messages were made.
func (s suite) listDeliveriesInWindow(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	f := b.searched(t)

	b.requireDeliveries(t, []deliveryCase{
		{
			name:   "since a message's time, which it includes",
			filter: messages.DeliveryFilter{Since: f.m[2].CreatedAt},
			want:   []messages.DeliveryKey{f.k(3, 1), f.k(3, 0), f.k(2, 1), f.k(2, 0)},
		},
		{
			name:   "until a message's time, which it excludes",
			filter: messages.DeliveryFilter{Until: f.m[1].CreatedAt},
			want:   []messages.DeliveryKey{f.k(0, 1), f.k(0, 0)},
		},
		{
			name:   "until just after a message",
			filter: messages.DeliveryFilter{Until: f.m[1].CreatedAt.Add(time.Millisecond)},
			want:   []messages.DeliveryKey{f.k(1, 1), f.k(1, 0), f.k(0, 1), f.k(0, 0)},
		},
		{
			name:   "a window",
			filter: messages.DeliveryFilter{Since: minute(1), Until: minute(3)},
			want:   []messages.DeliveryKey{f.k(2, 1), f.k(2, 0), f.k(1, 1), f.k(1, 0)},
		},
		{
			name: "failed in a window",
			filter: messages.DeliveryFilter{
				Status: messages.StatusFailed, Since: minute(1), Until: minute(3),
			},
			want: []messages.DeliveryKey{f.k(2, 0), f.k(1, 1)},
		},
		{
			name:   "a window between messages",
			filter: messages.DeliveryFilter{Since: minute(1).Add(time.Second), Until: minute(2)},
			want:   []messages.DeliveryKey{},
		},
		{
			name:   "a window after every message",
			filter: messages.DeliveryFilter{Since: minute(4)},
			want:   []messages.DeliveryKey{},
		},
	})
}

// listDeliveriesPages pages through the listing with the last key of each
// page as the cursor, splitting the deliveries of one message across two
// pages, and finds each delivery once.
func (s suite) listDeliveriesPages(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	f := b.searched(t)

	tests := []struct {
		name   string
		filter messages.DeliveryFilter
		limit  int
		want   [][]messages.DeliveryKey
	}{
		{
			name:  "three at a time",
			limit: 3,
			want: [][]messages.DeliveryKey{
				{f.k(3, 1), f.k(3, 0), f.k(2, 1)},
				{f.k(2, 0), f.k(1, 1), f.k(1, 0)},
				{f.k(0, 1), f.k(0, 0)},
			},
		},
		{
			name:   "failed, one at a time",
			filter: messages.DeliveryFilter{Status: messages.StatusFailed},
			limit:  1,
			want: [][]messages.DeliveryKey{
				{f.k(3, 1)}, {f.k(2, 0)}, {f.k(1, 1)}, {f.k(0, 0)},
			},
		},
		{
			name:   "an endpoint's in a window, two at a time",
			filter: messages.DeliveryFilter{EndpointID: f.e[1].ID, Since: minute(1)},
			limit:  2,
			want: [][]messages.DeliveryKey{
				{f.k(3, 1), f.k(2, 1)}, {f.k(1, 1)},
			},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			require.Equal(t, tt.want, b.pages(t, tt.filter, messages.DeliveryKey{}, tt.limit))
		})
	}

	// A cursor need not name a stored delivery.
	between := messages.DeliveryKey{MessageID: f.m[2].ID, EndpointID: f.e[1].ID + "0"}
	require.Equal(t, [][]messages.DeliveryKey{{f.k(2, 1), f.k(2, 0), f.k(1, 1)}, {f.k(1, 0), f.k(0, 1), f.k(0, 0)}},
		b.pages(t, messages.DeliveryFilter{}, between, 3))
}

// pages lists the tenant acme's deliveries after before, limit at a time,
// until a page comes short, and returns the keys of each page.
func (b *bundle) pages(
	t *testing.T, filter messages.DeliveryFilter, before messages.DeliveryKey, limit int,
) [][]messages.DeliveryKey {
	t.Helper()

	var pages [][]messages.DeliveryKey

	for {
		got, err := b.Store.ListDeliveries(t.Context(), acme, filter, before, limit)
		require.NoError(t, err)

		if len(got) == 0 {
			return pages
		}

		pages = append(pages, keys(got))
		require.Less(t, len(pages), 100, "the listing does not end")

		before = pages[len(pages)-1][len(got)-1]

		if len(got) < limit {
			return pages
		}
	}
}

// listDeliveriesStable publishes messages between the pages of a listing:
// the pages after the first are those of the listing before they came,
// and the new deliveries head a listing started afresh.
func (s suite) listDeliveriesStable(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	f := b.searched(t)

	first, err := b.Store.ListDeliveries(t.Context(), acme, messages.DeliveryFilter{}, messages.DeliveryKey{}, 3)
	require.NoError(t, err)
	require.Equal(t, []messages.DeliveryKey{f.k(3, 1), f.k(3, 0), f.k(2, 1)}, keys(first))

	fresh := b.message(t)
	b.fail(t, fresh.ID, f.e[0].ID)

	rest := b.pages(t, messages.DeliveryFilter{}, keys(first)[2], 3)
	require.Equal(t, [][]messages.DeliveryKey{
		{f.k(2, 0), f.k(1, 1), f.k(1, 0)},
		{f.k(0, 1), f.k(0, 0)},
	}, rest)

	got, err := b.Store.ListDeliveries(t.Context(), acme, messages.DeliveryFilter{}, messages.DeliveryKey{}, 3)
	require.NoError(t, err)
	require.Equal(t, []messages.DeliveryKey{key(fresh, f.e[1]), key(fresh, f.e[0]), f.k(3, 1)}, keys(got))

	failed, err := b.Store.ListDeliveries(t.Context(), acme,
		messages.DeliveryFilter{Status: messages.StatusFailed}, messages.DeliveryKey{}, 2)
	require.NoError(t, err)
	require.Equal(t, []messages.DeliveryKey{key(fresh, f.e[0]), f.k(3, 1)}, keys(failed))
}

// listDeliveriesNotFound tells a missing tenant from a tenant with nothing
// to show.
func (s suite) listDeliveriesNotFound(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	f := b.searched(t)

	for _, before := range []messages.DeliveryKey{{}, f.k(3, 1)} {
		got, err := b.Store.ListDeliveries(t.Context(), unknown, messages.DeliveryFilter{}, before, 10)
		require.ErrorIs(t, err, subscriptions.ErrTenantNotFound)
		require.Nil(t, got)
	}

	// The tenant other has one failed delivery, and none of acme's.
	got, err := b.Store.ListDeliveries(t.Context(), other,
		messages.DeliveryFilter{Status: messages.StatusPending}, messages.DeliveryKey{}, 10)
	require.NoError(t, err)
	require.Empty(t, got)

	got, err = b.Store.ListDeliveries(t.Context(), other,
		messages.DeliveryFilter{EndpointID: f.e[0].ID}, messages.DeliveryKey{}, 10)
	require.NoError(t, err)
	require.Empty(t, got)

	got, err = b.Store.ListDeliveries(t.Context(), other, messages.DeliveryFilter{}, messages.DeliveryKey{}, 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, other, got[0].TenantID)
}

// typedAttempts returns an endpoint of the tenant acme and its attempts,
// ten seconds apart from epoch: the invoice.paid message fails then
// succeeds, the refund.paid one fails, succeeds and, sent again, fails.
// Another endpoint has one attempt among them.
func (b *bundle) typedAttempts(t *testing.T) (subscriptions.Endpoint, []messages.Attempt) {
	t.Helper()

	b.putTenant(t, acme)

	var (
		e         = b.createEndpoint(t, acme)
		elsewhere = b.createEndpoint(t, acme)
		invoice   = b.typedAt(t, eventType, minute(0))
		refund    = b.typedAt(t, otherType, minute(1))
	)

	made := []messages.Attempt{
		b.record(t, attemptAt(t, invoice.ID, e.ID, 0)),
		b.record(t, attemptAt(t, refund.ID, e.ID, 10)),
		b.record(t, succeeded(attemptAt(t, invoice.ID, e.ID, 20))),
		b.record(t, succeeded(attemptAt(t, refund.ID, e.ID, 30))),
		b.record(t, attemptAt(t, refund.ID, e.ID, 40)),
	}

	b.record(t, attemptAt(t, invoice.ID, elsewhere.ID, 25))

	return e, made
}

// attemptCase is a filter and cursor of the attempts of typedAttempts
// and the ids of those they keep.
type attemptCase struct {
	name   string
	filter messages.AttemptFilter
	before string
	want   []string
}

// requireAttempts lists the attempts of the tenant acme's endpoint with
// each filter and cursor.
func (b *bundle) requireAttempts(t *testing.T, endpointID string, tests []attemptCase) {
	t.Helper()

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := b.Store.ListEndpointAttempts(t.Context(), acme, endpointID, tt.filter, tt.before, 10)
			require.NoError(t, err)
			require.Equal(t, tt.want, ids(got))
		})
	}
}

func (s suite) listEndpointAttemptsByType(t *testing.T) {
	t.Parallel()

	var (
		b       = s.setup(t)
		e, made = b.typedAttempts(t)
		yes     = true
		no      = false
	)

	b.requireAttempts(t, e.ID, []attemptCase{
		{
			name:   "event type",
			filter: messages.AttemptFilter{EventType: eventType},
			want:   newestFirst(made[0], made[2]),
		},
		{
			name:   "failed of an event type",
			filter: messages.AttemptFilter{EventType: otherType, Succeeded: &no},
			want:   newestFirst(made[1], made[4]),
		},
		{
			name:   "succeeded of an event type, before the newest",
			filter: messages.AttemptFilter{EventType: otherType, Succeeded: &yes},
			before: made[4].ID,
			want:   newestFirst(made[3]),
		},
		{
			name:   "unknown event type",
			filter: messages.AttemptFilter{EventType: unseenType},
			want:   []string{},
		},
	})
}

// listEndpointAttemptsInWindow bounds the time the attempts started.
func (s suite) listEndpointAttemptsInWindow(t *testing.T) {
	t.Parallel()

	var (
		b       = s.setup(t)
		e, made = b.typedAttempts(t)
		no      = false
		at      = func(n int) time.Time { return epoch.Add(time.Duration(n) * time.Second) }
	)

	b.requireAttempts(t, e.ID, []attemptCase{
		{
			name:   "since an attempt's start, which it includes",
			filter: messages.AttemptFilter{Since: at(10)},
			want:   newestFirst(made[1:]...),
		},
		{
			name:   "until an attempt's start, which it excludes",
			filter: messages.AttemptFilter{Until: at(20)},
			want:   newestFirst(made[:2]...),
		},
		{
			name:   "a window",
			filter: messages.AttemptFilter{Since: at(5), Until: at(35)},
			want:   newestFirst(made[1:4]...),
		},
		{
			name:   "failed in a window",
			filter: messages.AttemptFilter{Succeeded: &no, Since: at(5), Until: at(45)},
			want:   newestFirst(made[1], made[4]),
		},
		{
			name:   "a window and a cursor before its end",
			filter: messages.AttemptFilter{Since: at(10), Until: at(45)},
			before: made[3].ID,
			want:   newestFirst(made[1:3]...),
		},
		{
			name:   "a window and a cursor after its end",
			filter: messages.AttemptFilter{Until: at(20)},
			before: made[4].ID,
			want:   newestFirst(made[:2]...),
		},
		{
			name:   "every filter",
			filter: messages.AttemptFilter{EventType: otherType, Succeeded: &no, Since: at(20), Until: at(50)},
			want:   newestFirst(made[4]),
		},
		{
			name:   "a window before every attempt",
			filter: messages.AttemptFilter{Until: at(0)},
			want:   []string{},
		},
	})
}

func (s suite) listEndpointAttemptsFilteredNotFound(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)
	b.putTenant(t, other)
	e := b.createEndpoint(t, acme)
	b.record(t, attemptAt(t, b.message(t).ID, e.ID, 0))

	filter := messages.AttemptFilter{EventType: eventType, Since: epoch, Until: epoch.Add(time.Hour)}

	for _, tt := range missing(e.ID, unknownEndpoint) {
		got, err := b.Store.ListEndpointAttempts(t.Context(), tt.tenantID, tt.id, filter, "", 10)
		require.ErrorIs(t, err, subscriptions.ErrEndpointNotFound, tt.name)
		require.Nil(t, got, tt.name)
	}
}
