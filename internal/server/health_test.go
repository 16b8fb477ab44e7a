package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/client"
)

// health reads an endpoint's health of acme through the API.
func (b *testBundle) health(t *testing.T, endpointID string) (client.EndpointHealth, string) {
	t.Helper()

	res, err := b.client.GetEndpointHealthWithResponse(t.Context(), "acme", endpointID)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)

	return *res.JSON200, string(res.Body)
}

func TestEndpointHealth(t *testing.T) {
	t.Parallel()

	b, _ := setupSupport(t)
	b.putTenant(t, "acme", client.TenantInput{})

	var (
		ep    = b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/hooks"})
		quiet = b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/quiet"})
		m     = b.publish(t, invoicePaid(""))
	)

	t.Run("never tried", func(t *testing.T) {
		t.Parallel()

		h, body := b.health(t, quiet.Id)
		require.Equal(t, client.EndpointHealth{BreakerState: client.BreakerClosed}, h)
		require.JSONEq(t, `{
			"breaker_state": "closed", "breaker_changed_at": null,
			"last_attempt_at": null, "last_success_at": null, "failure_streak": 0
		}`, body)
	})

	// A failure, a success, then two failures.
	started := make([]time.Time, 0, 4)
	for n, ok := range []bool{false, true, false, false} {
		started = append(started, b.recordAttempt(t, m.Id, ep.Id, n, ok).StartedAt)
	}

	h, _ := b.health(t, ep.Id)
	require.NotNil(t, h.LastAttemptAt)
	require.True(t, started[3].Equal(*h.LastAttemptAt), "last attempt at %v", h.LastAttemptAt)
	require.NotNil(t, h.LastSuccessAt)
	require.True(t, started[1].Equal(*h.LastSuccessAt), "last success at %v", h.LastSuccessAt)
	require.Equal(t, 2, h.FailureStreak)
	require.Equal(t, client.BreakerClosed, h.BreakerState)
	require.Nil(t, h.BreakerChangedAt)

	// A worker reports its breaker open.
	opened := time.Date(2026, 1, 1, 0, 1, 0, 0, time.UTC)
	require.NoError(t, b.store.RecordBreakerState(t.Context(), ep.Id, "open", opened))

	h, _ = b.health(t, ep.Id)
	require.Equal(t, client.BreakerOpen, h.BreakerState)
	require.NotNil(t, h.BreakerChangedAt)
	require.True(t, opened.Equal(*h.BreakerChangedAt))

	t.Run("not found", func(t *testing.T) {
		t.Parallel()

		for _, tt := range []struct{ tenantID, id string }{
			{"acme", unknownEndpointID},
			{"ghost", ep.Id},
		} {
			res, err := b.client.GetEndpointHealthWithResponse(t.Context(), tt.tenantID, tt.id)
			require.NoError(t, err)

			p := requireProblem(t, res, http.StatusNotFound, "not-found", "")
			require.NotNil(t, res.ApplicationproblemJSON404)
			require.NotEmpty(t, p.Detail)
		}
	})

	t.Run("bad ids", func(t *testing.T) {
		t.Parallel()

		res, err := b.client.GetEndpointHealthWithResponse(t.Context(), "acme", m.Id)
		require.NoError(t, err)
		requireProblem(t, res, http.StatusBadRequest, "invalid-parameter", "endpoint_id")

		requireProblem(t, b.do(t, http.MethodGet, "/v1/tenants/a%20b/endpoints/"+ep.Id+"/health", ""),
			http.StatusBadRequest, "invalid-parameter", "tenant_id")
	})
}
