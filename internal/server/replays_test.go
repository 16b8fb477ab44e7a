package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/server"
	"github.com/heraldhq/herald/internal/store/storetest"
)

// refsOf returns the delivery jobs among the recorded enqueue calls.
func refsOf(calls []storetest.Enqueue) []messages.Ref {
	var refs []messages.Ref
	for _, call := range calls {
		refs = append(refs, call.Refs...)
	}

	return refs
}

func TestResend(t *testing.T) {
	t.Parallel()

	b, rec := setupSupport(t)
	b.putTenant(t, "acme", client.TenantInput{})

	ep := b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/hooks"})
	m := b.publish(t, invoicePaid("evt-1"))
	b.recordAttempt(t, m.Id, ep.Id, 0, false)
	b.failDelivery(t, m.Id, ep.Id)

	failed := b.deliveryOf(t, m.Id, ep.Id)
	require.Equal(t, client.DeliveryStatusFailed, failed.Status)
	require.Zero(t, failed.Round)

	before := time.Now()
	d := b.resend(t, m.Id, ep.Id)

	// The delivery is pending in its next round, due at once, and keeps its
	// attempts.
	require.Equal(t, m.Id, d.MessageId)
	require.Equal(t, ep.Id, d.EndpointId)
	require.Equal(t, "invoice.paid", d.EventType)
	require.Equal(t, client.DeliveryStatusPending, d.Status)
	require.Equal(t, 1, d.Round)
	require.Equal(t, 1, d.Attempts)
	require.Nil(t, d.Reason)
	require.NotNil(t, d.NextAttemptAt)
	require.WithinRange(t, *d.NextAttemptAt, before.Add(-time.Second), time.Now().Add(time.Second))

	// Its job is queued for the new round.
	require.Equal(t, messages.Ref{MessageID: m.Id, EndpointID: ep.Id, Round: 1}, refsOf(rec.Calls())[1])

	// The message shows the delivery and the replay, with who asked.
	got := b.message(t, m.Id)
	require.Len(t, got.Deliveries, 1)
	require.Equal(t, d.Round, got.Deliveries[0].Round)
	require.Equal(t, client.DeliveryStatusPending, got.Deliveries[0].Status)
	require.Len(t, got.Replays, 1)

	r := got.Replays[0]
	require.True(t, strings.HasPrefix(r.Id, "rpl_"), "id %q", r.Id)
	require.Equal(t, ep.Id, r.EndpointId)
	require.Equal(t, client.ReplayResend, r.Kind)
	require.Nil(t, r.RecoveryId)
	require.Equal(t, b.fingerprint(), r.Actor)
	require.WithinRange(t, r.CreatedAt, before.Add(-time.Second), time.Now())

	// It works whatever the state of the delivery.

	// Pending: it starts over in the next round.
	pending := b.resend(t, m.Id, ep.Id)
	require.Equal(t, 2, pending.Round)
	require.Equal(t, client.DeliveryStatusPending, pending.Status)

	// Succeeded: it is sent again.
	b.succeed(t, pending)
	require.Equal(t, client.DeliveryStatusSucceeded, b.deliveryOf(t, m.Id, ep.Id).Status)

	again := b.resend(t, m.Id, ep.Id)
	require.Equal(t, 3, again.Round)
	require.Equal(t, client.DeliveryStatusPending, again.Status)
	require.Equal(t, 2, again.Attempts)

	// Every replay is on the message, newest first.
	replays := b.message(t, m.Id).Replays
	require.Len(t, replays, 3)
	require.Equal(t, r.Id, replays[2].Id)
	require.Greater(t, replays[0].Id, replays[1].Id)

	refs := refsOf(rec.Calls())
	require.Equal(t, []messages.Ref{
		{MessageID: m.Id, EndpointID: ep.Id, Round: 2},
		{MessageID: m.Id, EndpointID: ep.Id, Round: 3},
	}, refs[len(refs)-2:])
}

func TestResendToANewEndpoint(t *testing.T) {
	t.Parallel()

	b, rec := setupSupport(t)
	b.putTenant(t, "acme", client.TenantInput{})

	// The message went nowhere: no endpoint existed, then one that filters
	// it out did.
	m := b.publish(t, invoicePaid(""))
	require.Zero(t, m.EndpointCount)

	ep := b.createEndpoint(t, "acme", client.EndpointInput{
		Url: "https://example.com/hooks", EventTypes: &[]string{"customer.*"},
	})

	d := b.resend(t, m.Id, ep.Id)
	require.Equal(t, m.Id, d.MessageId)
	require.Equal(t, "invoice.paid", d.EventType)
	require.Equal(t, client.DeliveryStatusPending, d.Status)
	require.Zero(t, d.Round)
	require.Zero(t, d.Attempts)

	require.Equal(t, []messages.Ref{{MessageID: m.Id, EndpointID: ep.Id}}, refsOf(rec.Calls()))
	require.Len(t, b.message(t, m.Id).Deliveries, 1)
}

func TestResendBody(t *testing.T) {
	t.Parallel()

	b, _ := setupSupport(t)
	b.putTenant(t, "acme", client.TenantInput{})

	var (
		ep   = b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/hooks"})
		m    = b.publish(t, invoicePaid(""))
		path = "/v1/tenants/acme/messages/" + m.Id + "/endpoints/" + ep.Id + "/resend"
	)

	for _, body := range []string{"", "{}", " { } "} {
		res := b.do(t, http.MethodPost, path, body)
		require.Equal(t, http.StatusAccepted, res.status, "body %q: %s", body, res.body)
	}

	requireProblem(t, b.do(t, http.MethodPost, path, `{"round":7}`), http.StatusBadRequest, "invalid-request", "round")
	requireProblem(t, b.do(t, http.MethodPost, path, `[]`), http.StatusBadRequest, "invalid-request", "")
	requireProblem(t, b.do(t, http.MethodPost, path, `{`), http.StatusBadRequest, "invalid-request", "")
	requireProblem(t, b.do(t, http.MethodPost, path, `{}`, withHeader("Content-Type", "text/plain")),
		http.StatusUnsupportedMediaType, "unsupported-media-type", "")

	require.Len(t, b.message(t, m.Id).Replays, 3)
}

func TestResendProblems(t *testing.T) {
	t.Parallel()

	b, rec := setupSupport(t)
	b.putTenant(t, "acme", client.TenantInput{})
	b.putTenant(t, "other", client.TenantInput{})

	var (
		ep     = b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/hooks"})
		paused = b.createEndpoint(t, "acme", client.EndpointInput{
			Url: "https://example.com/paused", Disabled: new(true), DisabledReason: new("paused for a migration"),
		})
		gone     = b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/gone"})
		theirs   = b.createEndpoint(t, "other", client.EndpointInput{Url: "https://example.com/theirs"})
		m        = b.publish(t, invoicePaid(""))
		enqueued = len(rec.Calls())
	)

	deleted, err := b.client.DeleteEndpointWithResponse(t.Context(), "acme", gone.Id)
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, deleted.StatusCode())

	tests := []struct {
		name       string
		tenantID   string
		messageID  string
		endpointID string
		status     int
		kind       string
		field      string
		detail     string
	}{
		{name: "unknown message", tenantID: "acme", messageID: unknownMessageID, endpointID: ep.Id, status: 404, kind: "not-found", detail: unknownMessageID},
		{name: "another tenant's message", tenantID: "other", messageID: m.Id, endpointID: theirs.Id, status: 404, kind: "not-found", detail: m.Id},
		{name: "unknown endpoint", tenantID: "acme", messageID: m.Id, endpointID: unknownEndpointID, status: 404, kind: "not-found", detail: unknownEndpointID},
		{name: "deleted endpoint", tenantID: "acme", messageID: m.Id, endpointID: gone.Id, status: 404, kind: "not-found", detail: gone.Id},
		{name: "another tenant's endpoint", tenantID: "acme", messageID: m.Id, endpointID: theirs.Id, status: 404, kind: "not-found", detail: theirs.Id},
		{name: "unknown tenant", tenantID: "ghost", messageID: m.Id, endpointID: ep.Id, status: 404, kind: "not-found"},
		{name: "disabled endpoint", tenantID: "acme", messageID: m.Id, endpointID: paused.Id, status: 409, kind: "conflict", detail: "disabled"},
		{name: "bad tenant id", tenantID: "a b", messageID: m.Id, endpointID: ep.Id, status: 400, kind: "invalid-parameter", field: "tenant_id"},
		{name: "bad message id", tenantID: "acme", messageID: ep.Id, endpointID: ep.Id, status: 400, kind: "invalid-parameter", field: "message_id"},
		{name: "bad endpoint id", tenantID: "acme", messageID: m.Id, endpointID: m.Id, status: 400, kind: "invalid-parameter", field: "endpoint_id"},
	}

	for _, tt := range tests {
		res, err := b.client.ResendMessageWithResponse(t.Context(), tt.tenantID, tt.messageID, tt.endpointID)
		require.NoError(t, err, tt.name)

		p := requireProblem(t, res, tt.status, tt.kind, tt.field)
		require.Contains(t, p.Detail, tt.detail, tt.name)
	}

	// A disabled endpoint is refused with why it was disabled and what to do.
	res, err := b.client.ResendMessageWithResponse(t.Context(), "acme", m.Id, paused.Id)
	require.NoError(t, err)

	p := requireProblem(t, res, http.StatusConflict, "conflict", "")
	require.Equal(t, `endpoint "`+paused.Id+`" is disabled: paused for a migration; `+
		`enable it first, with PATCH and {"disabled": false}`, p.Detail)
	require.NotNil(t, res.ApplicationproblemJSON409)

	// Nothing refused was recorded or queued.
	require.Empty(t, b.message(t, m.Id).Replays)
	require.Len(t, rec.Calls(), enqueued)
}

func TestResendActorIsTheKeyUsed(t *testing.T) {
	t.Parallel()

	b, _ := setupSupport(t)

	second, secondKey, err := auth.NewKey("second")
	require.NoError(t, err)

	// One API that takes both keys; the client sends the second.
	both := b.serve(t, server.Config{
		Store:   b.store,
		Keyring: auth.NewKeyring(auth.Hash(b.key), secondKey.Hash),
	})

	c, err := client.NewClientWithResponses(both.baseURL,
		client.WithHTTPClient(b.httpClient),
		client.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
			req.Header.Set("Authorization", "Bearer "+second)
			return nil
		}))
	require.NoError(t, err)

	both.putTenant(t, "acme", client.TenantInput{})
	ep := both.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/hooks"})
	m := both.publish(t, invoicePaid(""))

	res, err := c.ResendMessageWithResponse(t.Context(), "acme", m.Id, ep.Id)
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, res.StatusCode(), "body: %s", res.Body)

	both.resend(t, m.Id, ep.Id)

	replays := both.message(t, m.Id).Replays
	require.Len(t, replays, 2)
	require.Equal(t, b.fingerprint(), replays[0].Actor)
	require.Equal(t, auth.Fingerprint(secondKey.Hash), replays[1].Actor)
	require.NotEqual(t, replays[0].Actor, replays[1].Actor)
	require.Regexp(t, `^key:[0-9a-f]{12}$`, replays[1].Actor)

	// Neither key is in the record.
	body := both.do(t, http.MethodGet, "/v1/tenants/acme/messages/"+m.Id, "")
	require.NotContains(t, string(body.body), second)
	require.NotContains(t, string(body.body), b.key)
}

// recoverSince starts a recovery of the endpoint of acme from since and
// requires 202.
func (b *testBundle) recoverSince(t *testing.T, endpointID string, since time.Time) *client.RecoverEndpointResponse {
	t.Helper()

	res, err := b.client.RecoverEndpointWithResponse(t.Context(), "acme", endpointID, client.RecoveryInput{Since: since})
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, res.StatusCode(), "body: %s", res.Body)

	return res
}

// recovery reads a recovery of acme through the API.
func (b *testBundle) recovery(t *testing.T, endpointID, id string) client.Recovery {
	t.Helper()

	res, err := b.client.GetRecoveryWithResponse(t.Context(), "acme", endpointID, id)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)

	return *res.JSON200
}

func TestRecover(t *testing.T) {
	t.Parallel()

	b, rec := setupSupport(t)
	b.putTenant(t, "acme", client.TenantInput{})

	var (
		ep    = b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/hooks"})
		other = b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/other"})
		m1    = b.publish(t, invoicePaid(""))
		m2    = b.publish(t, invoicePaid(""))
		m3    = b.publish(t, invoicePaid(""))
	)

	// Two deliveries to ep failed, one is pending; one to other failed.
	b.failDelivery(t, m1.Id, ep.Id)
	b.failDelivery(t, m2.Id, ep.Id)
	b.failDelivery(t, m1.Id, other.Id)

	since := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	before := time.Now()
	res := b.recoverSince(t, ep.Id, since)

	r := *res.JSON202
	require.True(t, strings.HasPrefix(r.Id, "rcv_"), "id %q", r.Id)
	require.Equal(t, "/v1/tenants/acme/endpoints/"+ep.Id+"/recoveries/"+r.Id, res.HTTPResponse.Header.Get("Location"))
	require.Equal(t, ep.Id, r.EndpointId)
	require.True(t, since.Equal(r.Since), "since %v, want %v", r.Since, since)
	require.WithinRange(t, r.Until, before.Add(-time.Second), time.Now())
	require.Equal(t, client.RecoveryRunning, r.Status)
	require.Equal(t, 2, r.Total)
	require.Zero(t, r.Queued)
	require.NotZero(t, r.JobId)
	require.Equal(t, b.fingerprint(), r.Actor)
	require.Nil(t, r.Reason)
	require.NotContains(t, string(res.Body), "reason")

	// The job that works the recovery is queued; nothing else yet.
	calls := rec.Calls()
	require.Equal(t, storetest.Enqueue{RecoveryID: r.Id}, calls[len(calls)-1])

	// Its Location reads its progress.
	location := b.do(t, http.MethodGet, res.HTTPResponse.Header.Get("Location"), "")
	require.Equal(t, http.StatusOK, location.status, "body: %s", location.body)

	got := b.recovery(t, ep.Id, r.Id)
	require.Equal(t, r.Id, got.Id)
	require.Equal(t, client.RecoveryRunning, got.Status)

	// The job queues the deliveries batch by batch.
	step, err := b.store.RecoverNext(t.Context(), r.Id, 1)
	require.NoError(t, err)
	require.Equal(t, messages.RecoveryRunning, step.Status)

	got = b.recovery(t, ep.Id, r.Id)
	require.Equal(t, client.RecoveryRunning, got.Status)
	require.Equal(t, 1, got.Queued)

	for step.Status == messages.RecoveryRunning {
		step, err = b.store.RecoverNext(t.Context(), r.Id, 1)
		require.NoError(t, err)
	}

	got = b.recovery(t, ep.Id, r.Id)
	require.Equal(t, client.RecoveryDone, got.Status)
	require.Equal(t, 2, got.Queued)
	require.Equal(t, 2, got.Total)
	require.False(t, got.UpdatedAt.Before(got.CreatedAt))

	// The failed deliveries to ep are queued in their next round, and
	// nothing else is.
	refs := refsOf(rec.Calls()[len(calls):])
	require.ElementsMatch(t, []messages.Ref{
		{MessageID: m1.Id, EndpointID: ep.Id, Round: 1},
		{MessageID: m2.Id, EndpointID: ep.Id, Round: 1},
	}, refs)

	for _, id := range []string{m1.Id, m2.Id} {
		d := b.deliveryOf(t, id, ep.Id)
		require.Equal(t, client.DeliveryStatusPending, d.Status)
		require.Equal(t, 1, d.Round)

		replays := b.message(t, id).Replays
		require.Len(t, replays, 1)
		require.Equal(t, client.ReplayRecover, replays[0].Kind)
		require.Equal(t, &r.Id, replays[0].RecoveryId)
		require.Equal(t, ep.Id, replays[0].EndpointId)
		require.Equal(t, b.fingerprint(), replays[0].Actor)
	}

	require.Zero(t, b.deliveryOf(t, m3.Id, ep.Id).Round)
	require.Equal(t, client.DeliveryStatusFailed, b.deliveryOf(t, m1.Id, other.Id).Status)
}

func TestRecoverWindow(t *testing.T) {
	t.Parallel()

	b, _ := setupSupport(t)
	b.putTenant(t, "acme", client.TenantInput{})

	ep := b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/hooks"})
	early := b.publish(t, invoicePaid(""))
	b.failDelivery(t, early.Id, ep.Id)

	// A mark between the two messages, a few milliseconds from each, as
	// windows are taken to the millisecond.
	time.Sleep(5 * time.Millisecond)
	mark := time.Now()
	time.Sleep(5 * time.Millisecond)

	late := b.publish(t, invoicePaid(""))
	b.failDelivery(t, late.Id, ep.Id)

	tests := []struct {
		name         string
		since, until time.Time
		total        int
	}{
		{name: "both", since: mark.Add(-time.Hour), total: 2},
		{name: "from the mark", since: mark, total: 1},
		{name: "until the mark", since: mark.Add(-time.Hour), until: mark, total: 1},
		{name: "until in the future is now", since: mark.Add(-time.Hour), until: mark.Add(time.Hour), total: 2},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			in := client.RecoveryInput{Since: tt.since}
			if !tt.until.IsZero() {
				in.Until = &tt.until
			}

			res, err := b.client.RecoverEndpointWithResponse(t.Context(), "acme", ep.Id, in)
			require.NoError(t, err)
			require.Equal(t, http.StatusAccepted, res.StatusCode(), "body: %s", res.Body)
			require.Equal(t, tt.total, res.JSON202.Total)
			require.False(t, res.JSON202.Until.After(time.Now()))
		})
	}

	t.Run("with an offset", func(t *testing.T) {
		t.Parallel()

		body := `{"since":"` + mark.In(time.FixedZone("", 2*3600)).Format(time.RFC3339Nano) + `"}`
		res := b.do(t, http.MethodPost, "/v1/tenants/acme/endpoints/"+ep.Id+"/recover", body)
		require.Equal(t, http.StatusAccepted, res.status, "body: %s", res.body)
		require.Contains(t, string(res.body), `"total":1`)
	})
}

func TestRecoverCanceledWhenDisabled(t *testing.T) {
	t.Parallel()

	b, _ := setupSupport(t)
	b.putTenant(t, "acme", client.TenantInput{})

	ep := b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/hooks"})
	m := b.publish(t, invoicePaid(""))
	b.failDelivery(t, m.Id, ep.Id)

	r := b.recoverSince(t, ep.Id, time.Now().Add(-time.Hour)).JSON202
	b.patchEndpoint(t, "acme", ep.Id, client.EndpointPatch{Disabled: new(true), DisabledReason: new("maintenance")})

	_, err := b.store.RecoverNext(t.Context(), r.Id, 10)
	require.NoError(t, err)

	got := b.recovery(t, ep.Id, r.Id)
	require.Equal(t, client.RecoveryCanceled, got.Status)
	require.Zero(t, got.Queued)
	require.NotNil(t, got.Reason)
	require.Contains(t, *got.Reason, "disabled")
	require.Contains(t, *got.Reason, "maintenance")
	require.Equal(t, client.DeliveryStatusFailed, b.deliveryOf(t, m.Id, ep.Id).Status)
}

func TestRecoverProblems(t *testing.T) {
	t.Parallel()

	b, rec := setupSupport(t)
	b.putTenant(t, "acme", client.TenantInput{})
	b.putTenant(t, "other", client.TenantInput{})

	var (
		ep     = b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/hooks"})
		paused = b.createEndpoint(t, "acme", client.EndpointInput{
			Url: "https://example.com/paused", Disabled: new(true), DisabledReason: new("receiver down"),
		})
		theirs = b.createEndpoint(t, "other", client.EndpointInput{Url: "https://example.com/theirs"})
		path   = "/v1/tenants/acme/endpoints/" + ep.Id + "/recover"
		now    = time.Now().UTC()
		hour   = now.Add(-time.Hour).Format(time.RFC3339)
		within = `{"since":"` + hour + `"}`
	)

	// recoverPath returns the recover route of the tenant's endpoint.
	recoverPath := func(tenantID, endpointID string) string {
		return "/v1/tenants/" + tenantID + "/endpoints/" + endpointID + "/recover"
	}

	tests := []struct {
		name   string
		path   string
		body   string
		status int
		kind   string
		field  string
		detail string
	}{
		{name: "unknown endpoint", path: recoverPath("acme", unknownEndpointID), body: within, status: 404, kind: "not-found", detail: unknownEndpointID},
		{name: "another tenant's endpoint", path: recoverPath("acme", theirs.Id), body: within, status: 404, kind: "not-found", detail: theirs.Id},
		{name: "unknown tenant", path: recoverPath("ghost", ep.Id), body: within, status: 404, kind: "not-found"},
		{
			name: "disabled endpoint", path: recoverPath("acme", paused.Id), body: within,
			status: 409, kind: "conflict", detail: "is disabled: receiver down; enable it first",
		},
		{name: "bad tenant id", path: recoverPath("a%20b", ep.Id), body: within, status: 400, kind: "invalid-parameter", field: "tenant_id"},
		{name: "bad endpoint id", path: recoverPath("acme", "nope"), body: within, status: 400, kind: "invalid-parameter", field: "endpoint_id"},
		{name: "no body", path: path, status: 400, kind: "invalid-request"},
		{name: "unknown field", path: path, body: `{"since":"` + hour + `","batch":5}`, status: 400, kind: "invalid-request", field: "batch"},
		{name: "since of the wrong type", path: path, body: `{"since":1767225600}`, status: 400, kind: "invalid-request", field: "since"},
		{name: "since missing", path: path, body: `{}`, status: 422, kind: "validation", field: "since", detail: "required"},
		{name: "since null", path: path, body: `{"since":null}`, status: 422, kind: "validation", field: "since"},
		{name: "since malformed", path: path, body: `{"since":"yesterday"}`, status: 422, kind: "validation", field: "since", detail: "RFC 3339"},
		{name: "since without a zone", path: path, body: `{"since":"2026-01-01T00:00:00"}`, status: 422, kind: "validation", field: "since"},
		{name: "until malformed", path: path, body: `{"since":"` + hour + `","until":"2026-13-01T00:00:00Z"}`, status: 422, kind: "validation", field: "until"},
		{name: "since after until", path: path, body: `{"since":"` + hour + `","until":"` + now.Add(-2*time.Hour).Format(time.RFC3339) + `"}`, status: 422, kind: "validation", field: "since", detail: "before"},
		{name: "since equal to until", path: path, body: `{"since":"` + hour + `","until":"` + hour + `"}`, status: 422, kind: "validation", field: "since"},
		{name: "since in the future", path: path, body: `{"since":"` + now.Add(time.Hour).Format(time.RFC3339) + `"}`, status: 422, kind: "validation", field: "since"},
		{name: "window over 30 days", path: path, body: `{"since":"` + now.Add(-31*24*time.Hour).Format(time.RFC3339) + `"}`, status: 422, kind: "validation", field: "since", detail: "30 days"},
	}

	for _, tt := range tests {
		p := requireProblem(t, b.do(t, http.MethodPost, tt.path, tt.body), tt.status, tt.kind, tt.field)
		require.Contains(t, p.Detail, tt.detail, tt.name)
	}

	// Every malformed time is named.
	both := b.do(t, http.MethodPost, path, `{"since":"a","until":"b"}`)
	p := requireProblem(t, both, http.StatusUnprocessableEntity, "validation", "since")
	require.Len(t, *p.Errors, 2)
	require.Equal(t, "until", (*p.Errors)[1].Field)

	// Through the generated client.
	res, err := b.client.RecoverEndpointWithResponse(t.Context(), "acme", paused.Id,
		client.RecoveryInput{Since: now.Add(-time.Hour)})
	require.NoError(t, err)
	requireProblem(t, res, http.StatusConflict, "conflict", "")
	require.NotNil(t, res.ApplicationproblemJSON409)

	res, err = b.client.RecoverEndpointWithResponse(t.Context(), "acme", ep.Id, client.RecoveryInput{})
	require.NoError(t, err)
	requireProblem(t, res, http.StatusUnprocessableEntity, "validation", "since")
	require.NotNil(t, res.ApplicationproblemJSON422)

	notJSON := b.do(t, http.MethodPost, path, `{"since":"`+hour+`"}`, withHeader("Content-Type", "text/plain"))
	requireProblem(t, notJSON, http.StatusUnsupportedMediaType, "unsupported-media-type", "")

	// Nothing refused was stored or queued.
	require.Empty(t, rec.Calls())

	list, err := b.client.ListRecoveriesWithResponse(t.Context(), "acme", ep.Id, nil)
	require.NoError(t, err)
	require.Empty(t, list.JSON200.Data)
}

func TestListRecoveries(t *testing.T) {
	t.Parallel()

	b, _ := setupSupport(t)
	b.putTenant(t, "acme", client.TenantInput{})
	b.putTenant(t, "other", client.TenantInput{})

	var (
		ep     = b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/hooks"})
		quiet  = b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/quiet"})
		theirs = b.createEndpoint(t, "other", client.EndpointInput{Url: "https://example.com/theirs"})
		since  = time.Now().Add(-time.Hour)
		made   []string
	)

	for range 5 {
		made = append([]string{b.recoverSince(t, ep.Id, since).JSON202.Id}, made...)
	}

	// Page through with a limit of 2: 2, 2, then 1 without a cursor.
	var (
		got    []string
		cursor *string
	)

	for page := 1; ; page++ {
		res, err := b.client.ListRecoveriesWithResponse(t.Context(), "acme", ep.Id,
			&client.ListRecoveriesParams{Limit: new(2), Cursor: cursor})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)

		for _, r := range res.JSON200.Data {
			require.Equal(t, ep.Id, r.EndpointId)
			require.Equal(t, b.fingerprint(), r.Actor)

			got = append(got, r.Id)
		}

		if page == 3 {
			require.Len(t, res.JSON200.Data, 1)
			require.Nil(t, res.JSON200.NextCursor)

			break
		}

		require.Len(t, res.JSON200.Data, 2)
		require.NotNil(t, res.JSON200.NextCursor)

		cursor = res.JSON200.NextCursor
	}

	require.Equal(t, made, got, "newest first")

	t.Run("endpoint without recoveries", func(t *testing.T) {
		t.Parallel()

		res, err := b.client.ListRecoveriesWithResponse(t.Context(), "acme", quiet.Id, nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode())
		require.Contains(t, string(res.Body), `"data":[]`)
	})

	t.Run("not found", func(t *testing.T) {
		t.Parallel()

		for _, tt := range []struct{ tenantID, id string }{
			{"acme", unknownEndpointID},
			{"acme", theirs.Id},
			{"other", ep.Id},
			{"ghost", ep.Id},
		} {
			res, err := b.client.ListRecoveriesWithResponse(t.Context(), tt.tenantID, tt.id, nil)
			require.NoError(t, err)
			requireProblem(t, res, http.StatusNotFound, "not-found", "")
		}
	})

	t.Run("bad parameters", func(t *testing.T) {
		t.Parallel()

		base := "/v1/tenants/acme/endpoints/" + ep.Id + "/recoveries"
		requireProblem(t, b.do(t, http.MethodGet, "/v1/tenants/acme/endpoints/nope/recoveries", ""),
			http.StatusBadRequest, "invalid-parameter", "endpoint_id")
		requireProblem(t, b.do(t, http.MethodGet, "/v1/tenants/a%20b/endpoints/"+ep.Id+"/recoveries", ""),
			http.StatusBadRequest, "invalid-parameter", "tenant_id")
		requireProblem(t, b.do(t, http.MethodGet, base+"?limit=0", ""), http.StatusBadRequest, "invalid-parameter", "limit")
		requireProblem(t, b.do(t, http.MethodGet, base+"?limit=251", ""), http.StatusBadRequest, "invalid-parameter", "limit")
		requireProblem(t, b.do(t, http.MethodGet, base+"?cursor=%21", ""), http.StatusBadRequest, "invalid-parameter", "cursor")
	})
}

func TestGetRecoveryProblems(t *testing.T) {
	t.Parallel()

	b, _ := setupSupport(t)
	b.putTenant(t, "acme", client.TenantInput{})
	b.putTenant(t, "other", client.TenantInput{})

	var (
		ep     = b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/hooks"})
		second = b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/second"})
		gone   = b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/gone"})
		since  = time.Now().Add(-time.Hour)
		r      = b.recoverSince(t, ep.Id, since).JSON202
		lost   = b.recoverSince(t, gone.Id, since).JSON202
	)

	deleted, err := b.client.DeleteEndpointWithResponse(t.Context(), "acme", gone.Id)
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, deleted.StatusCode())

	tests := []struct {
		name                           string
		tenantID, endpointID, recovery string
		status                         int
		kind, field, detail            string
	}{
		{name: "unknown recovery", tenantID: "acme", endpointID: ep.Id, recovery: unknownRecoveryID, status: 404, kind: "not-found", detail: unknownRecoveryID},
		{name: "another endpoint's recovery", tenantID: "acme", endpointID: second.Id, recovery: r.Id, status: 404, kind: "not-found"},
		{name: "another tenant", tenantID: "other", endpointID: ep.Id, recovery: r.Id, status: 404, kind: "not-found"},
		{name: "deleted endpoint", tenantID: "acme", endpointID: gone.Id, recovery: lost.Id, status: 404, kind: "not-found"},
		{name: "bad recovery id", tenantID: "acme", endpointID: ep.Id, recovery: ep.Id, status: 400, kind: "invalid-parameter", field: "recovery_id"},
		{name: "bad endpoint id", tenantID: "acme", endpointID: r.Id, recovery: r.Id, status: 400, kind: "invalid-parameter", field: "endpoint_id"},
		{name: "bad tenant id", tenantID: "a b", endpointID: ep.Id, recovery: r.Id, status: 400, kind: "invalid-parameter", field: "tenant_id"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			res, err := b.client.GetRecoveryWithResponse(t.Context(), tt.tenantID, tt.endpointID, tt.recovery)
			require.NoError(t, err)

			p := requireProblem(t, res, tt.status, tt.kind, tt.field)
			require.Contains(t, p.Detail, tt.detail)
		})
	}
}

func TestSupportRoutesNeedAKey(t *testing.T) {
	t.Parallel()

	b, rec := setupSupport(t)
	b.putTenant(t, "acme", client.TenantInput{})
	ep := b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/hooks"})
	m := b.publish(t, invoicePaid(""))

	for _, route := range []struct{ method, path string }{
		{http.MethodGet, "/v1/tenants/acme/deliveries"},
		{http.MethodPost, "/v1/tenants/acme/messages/" + m.Id + "/endpoints/" + ep.Id + "/resend"},
		{http.MethodPost, "/v1/tenants/acme/endpoints/" + ep.Id + "/recover"},
		{http.MethodGet, "/v1/tenants/acme/endpoints/" + ep.Id + "/recoveries"},
		{http.MethodGet, "/v1/tenants/acme/endpoints/" + ep.Id + "/recoveries/" + unknownRecoveryID},
		{http.MethodGet, "/v1/tenants/acme/endpoints/" + ep.Id + "/health"},
	} {
		res := b.do(t, route.method, route.path, `{"since":"2026-01-01T00:00:00Z"}`,
			withHeader("Authorization", "Bearer hk_not-a-key"))
		requireProblem(t, res, http.StatusUnauthorized, "unauthorized", "")
	}

	require.Len(t, rec.Calls(), 1, "only the publish queued a job")
}

// TestActorWithoutKeyring checks that an API with no keyring, which
// refuses everything, never reaches a handler that needs an actor.
func TestActorWithoutKeyring(t *testing.T) {
	t.Parallel()

	srv := httptest.NewServer(server.New(server.Config{}))
	t.Cleanup(srv.Close)

	c, err := client.NewClientWithResponses(srv.URL)
	require.NoError(t, err)

	res, err := c.ResendMessageWithResponse(t.Context(), "acme", unknownMessageID, unknownEndpointID)
	require.NoError(t, err)
	requireProblem(t, res, http.StatusUnauthorized, "unauthorized", "")
}
