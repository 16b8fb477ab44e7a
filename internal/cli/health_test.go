package cli_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/testdb"
)

// TestHealthShowsTheBreaker follows an endpoint's health through the API
// as the worker's breaker opens on failures, then closes on a success.
func TestHealthShowsTheBreaker(t *testing.T) {
	t.Parallel()

	testdb.Each(t, func(t *testing.T, db testdb.Backend) { //nolint:thelper // a subtest, not a helper
		var (
			b = setupDelivery(t, db.URL,
				"HERALD_BREAKER_FAILURES=2",
				"HERALD_BREAKER_COOLDOWN=300ms",
				"HERALD_RETRY_SCHEDULE=10ms,10ms,10ms,10ms,10ms,10ms,10ms,10ms")
			r  = newReceiver(t, reply(500), reply(500), reply(200))
			ep = b.endpoint(t, r, client.EndpointInput{})
		)

		health := func() client.EndpointHealth {
			res, err := b.api.GetEndpointHealthWithResponse(t.Context(), b.tenant, ep.Id)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, res.StatusCode(), string(res.Body))

			return *res.JSON200
		}

		h := health()
		require.Equal(t, client.BreakerClosed, h.BreakerState)
		require.Nil(t, h.BreakerChangedAt)
		require.Nil(t, h.LastAttemptAt)

		published := b.publish(t, "invoice.paid", `{"n":1}`)

		// Two failures open the breaker; the worker records the change.
		require.Eventually(t, func() bool {
			h = health()
			return h.BreakerChangedAt != nil && h.FailureStreak == 2
		}, waitFor, 20*time.Millisecond, "the open breaker is not on record: %+v\n%s", &h, b)
		require.Nil(t, h.LastSuccessAt)

		// After the cooldown a probe goes through, succeeds and closes it.
		m := b.settled(t, published.Id)
		require.Equal(t, client.DeliveryStatusSucceeded, m.Deliveries[0].Status)

		require.Eventually(t, func() bool {
			h = health()
			return h.BreakerState == client.BreakerClosed && h.LastSuccessAt != nil
		}, waitFor, 20*time.Millisecond, "the closed breaker is not on record: %+v\n%s", &h, b)
		require.Zero(t, h.FailureStreak)
	})
}
