package sqlite_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/subscriptions"
)

// epoch is the start of the attempts the tests make.
var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// attempt returns the nth failed attempt of the delivery, n seconds after
// epoch, with an id that sorts by n.
func attempt(messageID, endpointID string, n int) messages.Attempt {
	started := epoch.Add(time.Duration(n) * time.Second)

	return messages.Attempt{
		ID:            fmt.Sprintf("atm_%03d", n),
		MessageID:     messageID,
		EndpointID:    endpointID,
		Number:        n,
		StartedAt:     started,
		Duration:      1500 * time.Microsecond,
		StatusCode:    500,
		ResponseBody:  []byte("oops \xff\x00"),
		Error:         "the endpoint answered 500 Internal Server Error",
		NextAttemptAt: started.Add(time.Minute),
	}
}

type deliveryBundle struct {
	*testBundle

	endpoint subscriptions.Endpoint
	message  messages.Message
}

// setupDelivery stores a tenant acme with one endpoint and one message to
// it.
func setupDelivery(t *testing.T) *deliveryBundle {
	t.Helper()

	b := setup(t)
	b.putTenant(t, "acme")
	e := b.addEndpoint(t, subscriptions.EndpointParams{})

	return &deliveryBundle{testBundle: b, endpoint: e, message: b.publish(t, "a.b", "").Message}
}

func (b *deliveryBundle) delivery(t *testing.T) messages.Delivery {
	t.Helper()

	_, deliveries, err := b.store.GetMessage(t.Context(), "acme", b.message.ID)
	require.NoError(t, err)
	require.Len(t, deliveries, 1)

	return deliveries[0]
}

func TestRecordAttempt(t *testing.T) {
	t.Parallel()

	b := setupDelivery(t)
	failed := attempt(b.message.ID, b.endpoint.ID, 1)
	require.NoError(t, b.store.RecordAttempt(t.Context(), failed, messages.StatusPending, ""))

	require.Equal(t, messages.Delivery{
		MessageID: b.message.ID, EndpointID: b.endpoint.ID, Status: messages.StatusPending, Attempts: 1,
		NextAttemptAt: failed.NextAttemptAt, UpdatedAt: failed.StartedAt.Add(failed.Duration),
	}, b.delivery(t))

	// No answer: no status code and no body.
	ok := attempt(b.message.ID, b.endpoint.ID, 2)
	ok.Succeeded, ok.StatusCode, ok.ResponseBody, ok.Error, ok.NextAttemptAt = true, 0, nil, "", time.Time{}
	require.NoError(t, b.store.RecordAttempt(t.Context(), ok, messages.StatusSucceeded, ""))

	got, err := b.store.ListMessageAttempts(t.Context(), "acme", b.message.ID, "", 10)
	require.NoError(t, err)

	ok.ResponseBody = []byte{} // stored empty, read back empty, as from PostgreSQL
	require.Equal(t, []messages.Attempt{ok, failed}, got)

	d := b.delivery(t)
	require.Equal(t, messages.StatusSucceeded, d.Status)
	require.True(t, d.NextAttemptAt.IsZero())

	// An attempt of no delivery is refused by the foreign key.
	require.Error(t, b.store.RecordAttempt(t.Context(), attempt("msg_none", b.endpoint.ID, 3), messages.StatusPending, ""))
}

func TestListAttemptsPages(t *testing.T) {
	t.Parallel()

	b := setupDelivery(t)

	for n := 1; n <= 5; n++ {
		a := attempt(b.message.ID, b.endpoint.ID, n)
		a.Succeeded = n%2 == 0
		require.NoError(t, b.store.RecordAttempt(t.Context(), a, messages.StatusPending, ""))
	}

	ids := func(attempts []messages.Attempt, err error) []string {
		require.NoError(t, err)

		out := make([]string, 0, len(attempts))
		for _, a := range attempts {
			out = append(out, a.ID)
		}

		return out
	}

	ctx, tenant, msg, ep := t.Context(), "acme", b.message.ID, b.endpoint.ID
	yes, no := true, false

	require.Equal(t, []string{"atm_005", "atm_004"}, ids(b.store.ListMessageAttempts(ctx, tenant, msg, "", 2)))
	require.Equal(t, []string{"atm_002", "atm_001"}, ids(b.store.ListMessageAttempts(ctx, tenant, msg, "atm_003", 5)))
	require.Equal(t, []string{}, ids(b.store.ListMessageAttempts(ctx, tenant, msg, "atm_001", 5)))

	require.Equal(t, []string{"atm_005", "atm_004", "atm_003", "atm_002", "atm_001"},
		ids(b.store.ListEndpointAttempts(ctx, tenant, ep, nil, "", 10)))
	require.Equal(t, []string{"atm_004", "atm_002"}, ids(b.store.ListEndpointAttempts(ctx, tenant, ep, &yes, "", 10)))
	require.Equal(t, []string{"atm_003", "atm_001"}, ids(b.store.ListEndpointAttempts(ctx, tenant, ep, &no, "atm_005", 10)))

	// An empty page of a missing parent is an error; of another tenant's
	// parent too.
	_, err := b.store.ListMessageAttempts(ctx, "other", msg, "", 10)
	require.ErrorIs(t, err, messages.ErrNotFound)

	_, err = b.store.ListEndpointAttempts(ctx, "other", ep, nil, "", 10)
	require.ErrorIs(t, err, subscriptions.ErrEndpointNotFound)

	_, err = b.store.ListMessageAttempts(ctx, tenant, msg, "", -1)
	require.Error(t, err)
}

func TestLoadTarget(t *testing.T) {
	t.Parallel()

	b := setupDelivery(t)

	target, err := b.store.LoadTarget(t.Context(), b.message.ID, b.endpoint.ID)
	require.NoError(t, err)
	require.Equal(t, messages.Target{
		Delivery: messages.Delivery{
			MessageID: b.message.ID, EndpointID: b.endpoint.ID, Status: messages.StatusPending,
		},
		Payload:  b.message.Payload,
		Endpoint: b.endpoint,
	}, target)

	require.NoError(t, b.store.DeleteEndpoint(t.Context(), "acme", b.endpoint.ID))

	_, err = b.store.LoadTarget(t.Context(), b.message.ID, b.endpoint.ID)
	require.ErrorIs(t, err, messages.ErrNotFound)
}

func TestRecordGone(t *testing.T) {
	t.Parallel()

	b := setupDelivery(t)
	other := b.publish(t, "a.b", "").Message

	gone := attempt(b.message.ID, b.endpoint.ID, 1)
	gone.StatusCode, gone.NextAttemptAt = 410, time.Time{}
	require.NoError(t, b.store.RecordGone(t.Context(), gone, "the endpoint answered 410 Gone"))

	e, err := b.store.GetEndpoint(t.Context(), "acme", b.endpoint.ID)
	require.NoError(t, err)
	require.True(t, e.Disabled)
	require.Equal(t, "the endpoint answered 410 Gone", e.DisabledReason)

	d := b.delivery(t)
	require.Equal(t, messages.StatusFailed, d.Status)
	require.Equal(t, "the endpoint answered 410 Gone", d.Reason)

	_, deliveries, err := b.store.GetMessage(t.Context(), "acme", other.ID)
	require.NoError(t, err)
	require.Equal(t, messages.StatusFailed, deliveries[0].Status)
	require.Equal(t, "endpoint disabled: the endpoint answered 410 Gone", deliveries[0].Reason)

	// Nothing is recorded when the attempt cannot be.
	require.Error(t, b.store.RecordGone(t.Context(), gone, "again"))

	e, err = b.store.GetEndpoint(t.Context(), "acme", b.endpoint.ID)
	require.NoError(t, err)
	require.Equal(t, "the endpoint answered 410 Gone", e.DisabledReason)
}

func TestFailDeliveryAndDisableEndpoint(t *testing.T) {
	t.Parallel()

	b := setupDelivery(t)
	before := time.Now().Add(-time.Second)

	require.NoError(t, b.store.FailDelivery(t.Context(), b.message.ID, b.endpoint.ID, "too old"))

	d := b.delivery(t)
	require.Equal(t, messages.StatusFailed, d.Status)
	require.Equal(t, "too old", d.Reason)
	require.WithinDuration(t, time.Now(), d.UpdatedAt, time.Since(before))

	// Only pending deliveries are given up.
	require.NoError(t, b.store.FailDelivery(t.Context(), b.message.ID, b.endpoint.ID, "again"))
	require.Equal(t, "too old", b.delivery(t).Reason)

	pending := b.publish(t, "a.b", "").Message
	require.NoError(t, b.store.DisableEndpoint(t.Context(), b.endpoint.ID, "manual"))

	_, deliveries, err := b.store.GetMessage(t.Context(), "acme", pending.ID)
	require.NoError(t, err)
	require.Equal(t, "endpoint disabled: manual", deliveries[0].Reason)
	require.Equal(t, "too old", b.delivery(t).Reason)

	e, err := b.store.GetEndpoint(t.Context(), "acme", b.endpoint.ID)
	require.NoError(t, err)
	require.True(t, e.Disabled)
	require.Equal(t, "manual", e.DisabledReason)
}
