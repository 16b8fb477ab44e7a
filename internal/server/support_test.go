package server_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/server"
	"github.com/heraldhq/herald/internal/store/storetest"
)

// unknownRecoveryID is a well-formed recovery id that no recovery has.
const unknownRecoveryID = "rcv_01jbq6q6ffe5x9qf2a8n1c3m4z"

// setupSupport returns a bundle whose API can publish and replay. Its
// store, which is also the bundle's, queues every job into the returned
// recorder, so that a test can see them and work a recovery by hand.
func setupSupport(t *testing.T) (*testBundle, *storetest.Recorder) {
	t.Helper()

	var (
		b   = setup(t)
		rec = storetest.NewRecorder()
	)

	b.store = b.store.WithEnqueue(storetest.Enqueuer[pgx.Tx]{Recorder: rec})

	return b.serve(t, server.Config{Store: b.store}), rec
}

// fingerprint is the actor the API records for the bundle's key.
func (b *testBundle) fingerprint() string {
	return auth.Fingerprint(auth.Hash(b.key))
}

// resend resends the message of acme to the endpoint and requires 202.
func (b *testBundle) resend(t *testing.T, messageID, endpointID string) client.Delivery {
	t.Helper()

	res, err := b.client.ResendMessageWithResponse(t.Context(), "acme", messageID, endpointID)
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, res.StatusCode(), "body: %s", res.Body)

	return *res.JSON202
}

// failDelivery gives the pending delivery of the tenant acme's message up
// in its current round, as the worker does when its retry schedule runs
// out.
func (b *testBundle) failDelivery(t *testing.T, messageID, endpointID string) {
	t.Helper()

	_, deliveries, err := b.store.GetMessage(t.Context(), "acme", messageID)
	require.NoError(t, err)

	i := slices.IndexFunc(deliveries, func(d messages.Delivery) bool { return d.EndpointID == endpointID })
	require.GreaterOrEqual(t, i, 0, "no delivery to %s", endpointID)

	require.NoError(t, b.store.FailDelivery(t.Context(), messages.Failure{
		MessageID: messageID, EndpointID: endpointID, Round: deliveries[i].Round,
		Reason: "the retry schedule ran out",
	}))
}

// succeed records a successful attempt of the delivery's current round.
func (b *testBundle) succeed(t *testing.T, d client.Delivery) {
	t.Helper()

	now := time.Now().UTC()
	id, err := messages.NewAttemptID(now)
	require.NoError(t, err)

	a := messages.Attempt{
		ID:         id,
		MessageID:  d.MessageId,
		EndpointID: d.EndpointId,
		Number:     d.Attempts + 1,
		StartedAt:  now,
		StatusCode: http.StatusOK,
		Succeeded:  true,
		Round:      d.Round,
	}
	require.NoError(t, b.store.RecordAttempt(t.Context(), a, messages.StatusSucceeded, ""))
}

// deliveryOf returns the message's delivery to the endpoint, read through
// the API.
func (b *testBundle) deliveryOf(t *testing.T, messageID, endpointID string) client.Delivery {
	t.Helper()

	m := b.message(t, messageID)
	for _, d := range m.Deliveries {
		if d.EndpointId == endpointID {
			return d
		}
	}

	require.Failf(t, "no delivery", "message %s has no delivery to %s", messageID, endpointID)

	return client.Delivery{}
}

// message returns the message of acme, read through the API.
func (b *testBundle) message(t *testing.T, id string) client.Message {
	t.Helper()

	res, err := b.client.GetMessageWithResponse(t.Context(), "acme", id)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)

	return *res.JSON200
}

// TestSupportBadInput sends malformed ids, parameters and bodies to every
// support route: each is answered with a 4xx problem, never a server
// error, which the bundle's transport would refuse.
func TestSupportBadInput(t *testing.T) {
	t.Parallel()

	b, rec := setupSupport(t)
	b.putTenant(t, "acme", client.TenantInput{})

	var (
		ep  = b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/hooks"})
		msg = b.publish(t, invoicePaid(""))
		bad = []string{
			"%00", "%FF", "..", "a%2Fb", strings.Repeat("x", 300), "msg_", "ep_", "rcv_",
			"rcv_01JBQ6Q6FFE5X9QF2A8N1C3M4Z", "%E2%80%AE", "null", "-1",
		}
		queries = []string{
			"status=%00", "status=", "event_type=%00", "event_type=" + strings.Repeat("a", 300),
			"since=0", "since=2026-02-30T00:00:00Z", "until=now", "since=2026-01-01T00:00:00Z&until=2025-01-01T00:00:00Z",
			"since=9999-12-31T23:59:59Z", "until=0001-01-01T00:00:00Z&since=0001-01-01T00:00:00Z",
			"endpoint_id=%00", "limit=-1", "limit=x", "limit=99999999999999999999", "cursor=%00", "cursor=AA",
			"cursor=" + url.QueryEscape("bXNnXzAxamJxNnE2ZmZlNXg5cWYyYThuMWMzbTR6IGVwXw"),
		}
	)

	base := "/v1/tenants/acme"
	routes := []struct{ method, path, body string }{
		{http.MethodGet, base + "/deliveries", ""},
		{http.MethodGet, base + "/endpoints/" + ep.Id + "/attempts", ""},
		{http.MethodGet, base + "/endpoints/" + ep.Id + "/recoveries", ""},
	}

	for _, route := range routes {
		for _, q := range queries {
			res := b.do(t, route.method, route.path+"?"+q, "")
			require.GreaterOrEqual(t, res.status, 200, "%s?%s", route.path, q)
			require.Less(t, res.status, 500, "%s?%s: %s", route.path, q, res.body)
		}
	}

	for _, id := range bad {
		for _, path := range []string{
			"/v1/tenants/" + id + "/deliveries",
			base + "/messages/" + id + "/endpoints/" + ep.Id + "/resend",
			base + "/messages/" + msg.Id + "/endpoints/" + id + "/resend",
			base + "/endpoints/" + id + "/recover",
			base + "/endpoints/" + id + "/recoveries",
			base + "/endpoints/" + ep.Id + "/recoveries/" + id,
			base + "/endpoints/" + id + "/health",
		} {
			method := http.MethodGet
			if strings.HasSuffix(path, "/resend") || strings.HasSuffix(path, "/recover") {
				method = http.MethodPost
			}

			res := b.do(t, method, path, `{"since":"2026-01-01T00:00:00Z"}`)
			require.GreaterOrEqual(t, res.status, 400, "%s %s", method, path)
			require.Less(t, res.status, 500, "%s %s: %s", method, path, res.body)
			require.Equal(t, "application/problem+json", res.header.Get("Content-Type"), "%s %s", method, path)
		}
	}

	for _, body := range []string{
		`{"since":"2026-01-01"}`, `{"since":"2026-01-01T00:00:00"}`, `{"since":"` + strings.Repeat("9", 10000) + `"}`,
		`{"since":"-0001-01-01T00:00:00Z"}`, `{"since":"2026-01-01T00:00:00+99:99"}`, `{"since":{}}`,
		`{"since":"2026-01-01T00:00:00Z","until":"10000-01-01T00:00:00Z"}`, `{"since":"\u0000"}`,
	} {
		res := b.do(t, http.MethodPost, base+"/endpoints/"+ep.Id+"/recover", body)
		require.GreaterOrEqual(t, res.status, 400, body)
		require.Less(t, res.status, 500, "%s: %s", body, res.body)
	}

	// Nothing refused was replayed or queued: only the publish was.
	require.Len(t, rec.Calls(), 1)
	require.Empty(t, b.message(t, msg.Id).Replays)
}
