package server_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/messages"
)

// deliveryKeys names each delivery of a page by "message endpoint".
func deliveryKeys(page []client.Delivery) []string {
	out := make([]string, len(page))
	for i, d := range page {
		out[i] = d.MessageId + " " + d.EndpointId
	}

	return out
}

// deliveriesBundle is a tenant with deliveries in every state, to search.
type deliveriesBundle struct {
	*testBundle

	// e1 takes every event type; e2 only invoice.*, and was made after e1.
	e1, e2 client.Endpoint

	// m1 and m3 are invoice.paid, to both endpoints; m2 is
	// customer.created, to e1 only. They were published in this order, a
	// few milliseconds apart.
	m1, m2, m3 client.PublishedMessage

	// afterM1 and afterM2 are times between the messages.
	afterM1, afterM2 time.Time
}

// setupDeliveries publishes the messages of a [deliveriesBundle]: the
// delivery of m1 to e1 failed, of m3 to e2 succeeded, and the others are
// pending.
func setupDeliveries(t *testing.T) *deliveriesBundle {
	t.Helper()

	b, _ := setupSupport(t)
	b.putTenant(t, "acme", client.TenantInput{})
	b.putTenant(t, "other", client.TenantInput{})

	s := &deliveriesBundle{testBundle: b}
	s.e1 = b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/all"})
	s.e2 = b.createEndpoint(t, "acme", client.EndpointInput{
		Url: "https://example.com/invoices", EventTypes: &[]string{"invoice.*"},
	})

	// Windows are taken to the millisecond: keep the marks clear of the
	// messages on both sides.
	pause := func() { time.Sleep(5 * time.Millisecond) }

	s.m1 = b.publish(t, invoicePaid(""))
	pause()
	s.afterM1 = time.Now()
	pause()
	s.m2 = b.publish(t, client.MessageInput{EventType: "customer.created", Payload: json.RawMessage(`{}`)})
	pause()
	s.afterM2 = time.Now()
	pause()
	s.m3 = b.publish(t, invoicePaid(""))

	b.failDelivery(t, s.m1.Id, s.e1.Id)
	b.succeed(t, b.deliveryOf(t, s.m3.Id, s.e2.Id))

	// Another tenant's deliveries never show.
	b.createEndpoint(t, "other", client.EndpointInput{Url: "https://example.com/theirs"})

	res, err := b.client.PublishMessageWithResponse(t.Context(), "other", invoicePaid(""))
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, res.StatusCode())

	return s
}

// list answers one page of acme's deliveries, requiring 200.
func (s *deliveriesBundle) list(t *testing.T, params client.ListDeliveriesParams) client.DeliveryList {
	t.Helper()

	res, err := s.client.ListDeliveriesWithResponse(t.Context(), "acme", &params)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)

	return *res.JSON200
}

func TestListDeliveries(t *testing.T) {
	t.Parallel()

	s := setupDeliveries(t)

	var (
		m1e1 = s.m1.Id + " " + s.e1.Id
		m1e2 = s.m1.Id + " " + s.e2.Id
		m2e1 = s.m2.Id + " " + s.e1.Id
		m3e1 = s.m3.Id + " " + s.e1.Id
		m3e2 = s.m3.Id + " " + s.e2.Id
		all  = []string{m3e2, m3e1, m2e1, m1e2, m1e1}
	)

	t.Run("all, newest first", func(t *testing.T) {
		t.Parallel()

		page := s.list(t, client.ListDeliveriesParams{})
		require.Equal(t, all, deliveryKeys(page.Data))
		require.Nil(t, page.NextCursor)

		failed := page.Data[4]
		require.Equal(t, client.Delivery{
			MessageId:  s.m1.Id,
			EndpointId: s.e1.Id,
			EventType:  "invoice.paid",
			Status:     client.DeliveryStatusFailed,
			Reason:     new("the retry schedule ran out"),
			UpdatedAt:  failed.UpdatedAt,
		}, failed)

		require.Equal(t, "customer.created", page.Data[2].EventType)
		require.Equal(t, client.DeliveryStatusSucceeded, page.Data[0].Status)
		require.Equal(t, 1, page.Data[0].Attempts)
	})

	t.Run("paged", func(t *testing.T) {
		t.Parallel()

		var (
			got    []string
			cursor *string
		)

		for page := 1; ; page++ {
			res := s.list(t, client.ListDeliveriesParams{Limit: new(2), Cursor: cursor})
			got = append(got, deliveryKeys(res.Data)...)

			if page == 3 {
				require.Len(t, res.Data, 1)
				require.Nil(t, res.NextCursor)

				break
			}

			require.Len(t, res.Data, 2)
			require.NotNil(t, res.NextCursor)

			cursor = res.NextCursor
		}

		require.Equal(t, all, got)
	})

	tests := []struct {
		name   string
		params client.ListDeliveriesParams
		want   []string
	}{
		{name: "failed", params: client.ListDeliveriesParams{Status: new(client.DeliveryStatusFailed)}, want: []string{m1e1}},
		{name: "succeeded", params: client.ListDeliveriesParams{Status: new(client.DeliveryStatusSucceeded)}, want: []string{m3e2}},
		{name: "pending", params: client.ListDeliveriesParams{Status: new(client.DeliveryStatusPending)}, want: []string{m3e1, m2e1, m1e2}},
		{name: "event type", params: client.ListDeliveriesParams{EventType: new("customer.created")}, want: []string{m2e1}},
		{name: "event type without deliveries", params: client.ListDeliveriesParams{EventType: new("invoice.voided")}, want: []string{}},
		{name: "endpoint", params: client.ListDeliveriesParams{EndpointId: &s.e2.Id}, want: []string{m3e2, m1e2}},
		{name: "unknown endpoint", params: client.ListDeliveriesParams{EndpointId: new(unknownEndpointID)}, want: []string{}},
		{name: "since", params: client.ListDeliveriesParams{Since: &s.afterM1}, want: []string{m3e2, m3e1, m2e1}},
		{name: "until", params: client.ListDeliveriesParams{Until: &s.afterM2}, want: []string{m2e1, m1e2, m1e1}},
		{name: "window", params: client.ListDeliveriesParams{Since: &s.afterM1, Until: &s.afterM2}, want: []string{m2e1}},
		{
			name:   "window with an offset",
			params: client.ListDeliveriesParams{Since: new(s.afterM1.In(time.FixedZone("", -5*3600)))},
			want:   []string{m3e2, m3e1, m2e1},
		},
		{
			name: "every filter",
			params: client.ListDeliveriesParams{
				Status: new(client.DeliveryStatusPending), EventType: new("invoice.paid"),
				EndpointId: &s.e1.Id, Since: &s.afterM1,
			},
			want: []string{m3e1},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			page := s.list(t, tt.params)
			require.Equal(t, tt.want, deliveryKeys(page.Data))
		})
	}
}

func TestListDeliveriesCursorUnderInserts(t *testing.T) {
	t.Parallel()

	s := setupDeliveries(t)

	// A cursor keeps its place while messages are published.
	first := s.list(t, client.ListDeliveriesParams{Limit: new(2), EndpointId: &s.e1.Id})
	require.Equal(t, []string{s.m3.Id + " " + s.e1.Id, s.m2.Id + " " + s.e1.Id}, deliveryKeys(first.Data))

	s.publish(t, invoicePaid(""))

	second := s.list(t, client.ListDeliveriesParams{Limit: new(2), EndpointId: &s.e1.Id, Cursor: first.NextCursor})
	require.Equal(t, []string{s.m1.Id + " " + s.e1.Id}, deliveryKeys(second.Data))
	require.Nil(t, second.NextCursor)
}

func TestListDeliveriesProblems(t *testing.T) {
	t.Parallel()

	b, _ := setupSupport(t)
	b.putTenant(t, "acme", client.TenantInput{})

	cursor := func(s string) string {
		return url.QueryEscape(base64.RawURLEncoding.EncodeToString([]byte(s)))
	}

	const base = "/v1/tenants/acme/deliveries"

	tests := []struct {
		name  string
		query string
		field string
	}{
		{name: "bad status", query: "status=bogus", field: "status"},
		{name: "status in capitals", query: "status=FAILED", field: "status"},
		{name: "empty status", query: "status=", field: "status"},
		{name: "bad event type", query: "event_type=invoice..paid", field: "event_type"},
		{name: "wildcard event type", query: "event_type=invoice.*", field: "event_type"},
		{name: "bad endpoint id", query: "endpoint_id=" + unknownMessageID, field: "endpoint_id"},
		{name: "bad since", query: "since=yesterday", field: "since"},
		{name: "bad until", query: "until=2026-13-01T00:00:00Z", field: "until"},
		{name: "an unescaped plus", query: "since=2026-01-01T00:00:00+02:00", field: "since"},
		{name: "since after until", query: "since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z", field: "since"},
		{name: "since equal to until", query: "since=2026-01-01T00:00:00Z&until=2026-01-01T00:00:00Z", field: "since"},
		{name: "limit too small", query: "limit=0", field: "limit"},
		{name: "limit too large", query: "limit=251", field: "limit"},
		{name: "limit not a number", query: "limit=ten", field: "limit"},
		{name: "cursor not base64", query: "cursor=%21", field: "cursor"},
		{name: "cursor of an attempt listing", query: "cursor=" + cursor(unknownMessageID), field: "cursor"},
		{name: "cursor of two message ids", query: "cursor=" + cursor(unknownMessageID+" "+unknownMessageID), field: "cursor"},
		{name: "cursor with a bad endpoint", query: "cursor=" + cursor(unknownMessageID+" ep_"), field: "cursor"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			p := requireProblem(t, b.do(t, http.MethodGet, base+"?"+tt.query, ""),
				http.StatusBadRequest, "invalid-parameter", tt.field)
			require.NotEmpty(t, p.Detail)
		})
	}

	t.Run("since after until says so", func(t *testing.T) {
		t.Parallel()

		res, err := b.client.ListDeliveriesWithResponse(t.Context(), "acme", &client.ListDeliveriesParams{
			Since: new(time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)),
			Until: new(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
		})
		require.NoError(t, err)

		p := requireProblem(t, res, http.StatusBadRequest, "invalid-parameter", "since")
		require.Contains(t, p.Detail, "before until")
		require.NotNil(t, res.ApplicationproblemJSON400)
	})

	t.Run("a cursor this API made", func(t *testing.T) {
		t.Parallel()

		res := b.do(t, http.MethodGet, base+"?cursor="+cursor(unknownMessageID+" "+unknownEndpointID), "")
		require.Equal(t, http.StatusOK, res.status, "body: %s", res.body)
	})

	t.Run("unknown tenant", func(t *testing.T) {
		t.Parallel()

		res, err := b.client.ListDeliveriesWithResponse(t.Context(), "ghost", nil)
		require.NoError(t, err)

		p := requireProblem(t, res, http.StatusNotFound, "not-found", "")
		require.Contains(t, p.Detail, `"ghost"`)
		require.NotNil(t, res.ApplicationproblemJSON404)
	})

	t.Run("bad tenant id", func(t *testing.T) {
		t.Parallel()

		requireProblem(t, b.do(t, http.MethodGet, "/v1/tenants/a%20b/deliveries", ""),
			http.StatusBadRequest, "invalid-parameter", "tenant_id")
	})

	t.Run("tenant without deliveries", func(t *testing.T) {
		t.Parallel()

		res := b.do(t, http.MethodGet, base, "")
		require.Equal(t, http.StatusOK, res.status)
		require.JSONEq(t, `{"data":[]}`, string(res.body))
	})
}

func TestListEndpointAttemptsFilters(t *testing.T) {
	t.Parallel()

	b, _ := setupSupport(t)
	b.putTenant(t, "acme", client.TenantInput{})

	var (
		ep       = b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/hooks"})
		invoice  = b.publish(t, invoicePaid(""))
		customer = b.publish(t, client.MessageInput{EventType: "customer.created", Payload: json.RawMessage(`{}`)})
		made     = make([]messages.Attempt, 0, 6)
	)

	// Attempts n seconds into 2026, alternately of each message; the last
	// one succeeded.
	for n := range 6 {
		msg := []string{invoice.Id, customer.Id}[n%2]
		made = append(made, b.recordAttempt(t, msg, ep.Id, n, n == 5))
	}

	at := func(n int) *time.Time { return new(time.Date(2026, 1, 1, 0, 0, n, 0, time.UTC)) }

	tests := []struct {
		name   string
		params client.ListEndpointAttemptsParams
		want   []string
	}{
		{name: "event type", params: client.ListEndpointAttemptsParams{EventType: new("customer.created")}, want: newestFirst(made[1], made[3], made[5])},
		{name: "since", params: client.ListEndpointAttemptsParams{Since: at(4)}, want: newestFirst(made[4], made[5])},
		{name: "until", params: client.ListEndpointAttemptsParams{Until: at(2)}, want: newestFirst(made[0], made[1])},
		{name: "window", params: client.ListEndpointAttemptsParams{Since: at(1), Until: at(3)}, want: newestFirst(made[1], made[2])},
		{
			name: "failed of one type in a window",
			params: client.ListEndpointAttemptsParams{
				Status:    new(client.ListEndpointAttemptsParamsStatusFailed),
				EventType: new("customer.created"),
				Since:     at(2),
			},
			want: newestFirst(made[3]),
		},
		{name: "window before every attempt", params: client.ListEndpointAttemptsParams{Until: at(0)}, want: []string{}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			res, err := b.client.ListEndpointAttemptsWithResponse(t.Context(), "acme", ep.Id, &tt.params)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
			require.Equal(t, tt.want, attemptIDs(res.JSON200.Data))
		})
	}

	t.Run("bad parameters", func(t *testing.T) {
		t.Parallel()

		base := "/v1/tenants/acme/endpoints/" + ep.Id + "/attempts?"

		for query, field := range map[string]string{
			"event_type=a..b":        "event_type",
			"event_type=":            "event_type",
			"since=tomorrow":         "since",
			"until=2026-01-01T25:00": "until",
			"since=2026-01-01T00:00:01Z&until=2026-01-01T00:00:00Z": "since",
		} {
			requireProblem(t, b.do(t, http.MethodGet, base+query, ""), http.StatusBadRequest, "invalid-parameter", field)
		}
	})
}
