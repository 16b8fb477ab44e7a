package cli_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/testdb"
)

func TestDeliveryRetriesUntilSuccess(t *testing.T) {
	t.Parallel()

	testdb.Each(t, func(t *testing.T, db testdb.Backend) { //nolint:thelper // a subtest, not a helper
		var (
			b  = setupDelivery(t, db.URL, "HERALD_RETRY_SCHEDULE=200ms,200ms")
			r  = newReceiver(t, reply(500), reply(500), reply(200))
			ep = b.endpoint(t, r, client.EndpointInput{})
		)

		published := b.publish(t, "invoice.paid", `{"n":1}`)
		m := b.settled(t, published.Id)

		d := deliveryTo(t, m, ep.Id)
		require.Equal(t, client.DeliveryStatusSucceeded, d.Status)
		require.Equal(t, 3, d.Attempts)

		got := r.received()
		require.Len(t, got, 3)

		for i, req := range got {
			require.NoError(t, req.verifyErr)
			require.Equal(t, published.Id, req.id(), "the same webhook-id on every try")
			require.InDelta(t, time.Now().Unix(), req.timestamp(t), 60)

			if i > 0 {
				require.GreaterOrEqual(t, req.timestamp(t), got[i-1].timestamp(t))
			}
		}

		attempts := b.attempts(t, published.Id)
		require.Len(t, attempts, 3)

		for i, want := range []int{200, 500, 500} {
			a := attempts[i]
			require.Equal(t, 3-i, a.Attempt, "newest first")
			require.NotNil(t, a.StatusCode)
			require.Equal(t, want, *a.StatusCode)
			require.Equal(t, want == 200, a.Succeeded)

			if want == 200 {
				require.Nil(t, a.NextAttemptAt)
				require.Nil(t, a.Error)

				continue
			}

			require.NotNil(t, a.NextAttemptAt)
			require.True(t, a.NextAttemptAt.After(a.StartedAt))
			require.NotNil(t, a.Error)
			require.Contains(t, *a.Error, "500")
		}
	})
}

func TestDeliveryRetriesAtOnceOnAZeroWait(t *testing.T) {
	t.Parallel()

	testdb.Each(t, func(t *testing.T, db testdb.Backend) { //nolint:thelper // a subtest, not a helper
		var (
			b  = setupDelivery(t, db.URL, "HERALD_RETRY_SCHEDULE=0s,0s")
			r  = newReceiver(t, reply(500), reply(500), reply(200))
			ep = b.endpoint(t, r, client.EndpointInput{})
		)

		published := b.publish(t, "invoice.paid", `{"n":1}`)
		m := b.settled(t, published.Id)

		d := deliveryTo(t, m, ep.Id)
		require.Equal(t, client.DeliveryStatusSucceeded, d.Status)
		require.Equal(t, 3, d.Attempts)
		require.Len(t, r.received(), 3)
	})
}

func TestDeliveryGivesUpWhenTheScheduleRunsOut(t *testing.T) {
	t.Parallel()

	testdb.Each(t, func(t *testing.T, db testdb.Backend) { //nolint:thelper // a subtest, not a helper
		var (
			b  = setupDelivery(t, db.URL, "HERALD_RETRY_SCHEDULE=100ms,100ms")
			r  = newReceiver(t, reply(500))
			ep = b.endpoint(t, r, client.EndpointInput{})
		)

		published := b.publish(t, "invoice.paid", `{"n":1}`)
		m := b.settled(t, published.Id)

		d := deliveryTo(t, m, ep.Id)
		require.Equal(t, client.DeliveryStatusFailed, d.Status)
		require.Equal(t, 3, d.Attempts)
		require.NotNil(t, d.Reason)
		require.NotEmpty(t, *d.Reason)
		require.Nil(t, d.NextAttemptAt)

		require.Never(t, func() bool { return len(r.received()) > 3 }, 600*time.Millisecond, 20*time.Millisecond,
			"a request after the schedule ran out")
		require.Len(t, r.received(), 3)

		failed := b.failedAttempts(t, ep.Id)
		require.Len(t, failed, 3)
		require.Nil(t, failed[0].NextAttemptAt, "the last attempt plans none")
	})
}

func TestDeliveryGoneDisablesTheEndpoint(t *testing.T) {
	t.Parallel()

	testdb.Each(t, func(t *testing.T, db testdb.Backend) { //nolint:thelper // a subtest, not a helper
		var (
			b       = setupDelivery(t, db.URL)
			gone    = newReceiver(t, reply(http.StatusGone))
			healthy = newReceiver(t)
			toGone  = b.endpoint(t, gone, client.EndpointInput{})
			toOK    = b.endpoint(t, healthy, client.EndpointInput{})
		)

		first := b.publish(t, "invoice.paid", `{"n":1}`)
		require.Equal(t, 2, first.EndpointCount)

		m := b.settled(t, first.Id)

		d := deliveryTo(t, m, toGone.Id)
		require.Equal(t, client.DeliveryStatusFailed, d.Status)
		require.Equal(t, 1, d.Attempts)
		require.NotNil(t, d.Reason)
		require.Contains(t, *d.Reason, "410")
		require.Equal(t, client.DeliveryStatusSucceeded, deliveryTo(t, m, toOK.Id).Status)

		// The 410 attempt and the disabling are on record together.
		res, err := b.api.GetEndpointWithResponse(t.Context(), b.tenant, toGone.Id)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode(), string(res.Body))
		require.True(t, res.JSON200.Disabled, "the delivery failed on 410 but the endpoint is enabled")
		require.NotNil(t, res.JSON200.DisabledReason)
		require.Contains(t, *res.JSON200.DisabledReason, "410")

		failed := b.failedAttempts(t, toGone.Id)
		require.Len(t, failed, 1)
		require.NotNil(t, failed[0].StatusCode)
		require.Equal(t, http.StatusGone, *failed[0].StatusCode)

		second := b.publish(t, "invoice.paid", `{"n":2}`)
		require.Equal(t, 1, second.EndpointCount, "the disabled endpoint gets nothing more")

		m = b.settled(t, second.Id)
		require.Len(t, m.Deliveries, 1)
		require.Equal(t, toOK.Id, m.Deliveries[0].EndpointId)
		require.Len(t, healthy.await(t, 2), 2)
		require.Len(t, gone.received(), 1)

		// Disabling is reversible.
		enabled, err := b.api.UpdateEndpointWithResponse(t.Context(), b.tenant, toGone.Id,
			client.EndpointPatch{Disabled: new(false)})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, enabled.StatusCode(), string(enabled.Body))
		require.False(t, enabled.JSON200.Disabled)
		require.Nil(t, enabled.JSON200.DisabledReason)

		third := b.publish(t, "invoice.paid", `{"n":3}`)
		require.Equal(t, 2, third.EndpointCount)
		require.Len(t, gone.await(t, 2), 2)
	})
}

func TestDeliveryDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()

	testdb.Each(t, func(t *testing.T, db testdb.Backend) { //nolint:thelper // a subtest, not a helper
		var (
			b      = setupDelivery(t, db.URL)
			target = newReceiver(t)
			r      = newReceiver(t, answer{
				status: http.StatusTemporaryRedirect,
				header: map[string]string{"Location": target.URL + "/webhooks"},
			})
			ep = b.endpoint(t, r, client.EndpointInput{})
		)

		published := b.publish(t, "invoice.paid", `{"n":1}`)

		d := deliveryTo(t, b.settled(t, published.Id), ep.Id)
		require.Equal(t, client.DeliveryStatusFailed, d.Status)
		require.Equal(t, 3, d.Attempts)

		for _, a := range b.attempts(t, published.Id) {
			require.NotNil(t, a.StatusCode)
			require.Equal(t, http.StatusTemporaryRedirect, *a.StatusCode)
		}

		require.Len(t, r.received(), 3)
		require.Empty(t, target.received())
	})
}

func TestDeliveryHonoursRetryAfter(t *testing.T) {
	t.Parallel()

	testdb.Each(t, func(t *testing.T, db testdb.Backend) { //nolint:thelper // a subtest, not a helper
		var (
			b = setupDelivery(t, db.URL, "HERALD_RETRY_SCHEDULE=100ms,100ms")
			r = newReceiver(t,
				answer{status: http.StatusTooManyRequests, header: map[string]string{"Retry-After": "2"}},
				reply(http.StatusOK))
			ep = b.endpoint(t, r, client.EndpointInput{})
		)

		published := b.publish(t, "invoice.paid", `{"n":1}`)

		got := r.await(t, 2)
		require.GreaterOrEqual(t, got[1].at.Sub(got[0].at), 1900*time.Millisecond,
			"the retry came before the 2s the receiver asked for")

		m := b.settled(t, published.Id)
		d := deliveryTo(t, m, ep.Id)
		require.Equal(t, client.DeliveryStatusSucceeded, d.Status)
		require.Equal(t, 2, d.Attempts)

		attempts := b.attempts(t, published.Id)
		require.Len(t, attempts, 2)

		limited := attempts[1]
		require.NotNil(t, limited.StatusCode)
		require.Equal(t, http.StatusTooManyRequests, *limited.StatusCode)
		require.NotNil(t, limited.NextAttemptAt)
		require.GreaterOrEqual(t, limited.NextAttemptAt.Sub(limited.StartedAt), 1900*time.Millisecond)
	})
}

func TestBreakerHoldsDeliveriesWithoutSpendingAttempts(t *testing.T) {
	t.Parallel()

	testdb.Each(t, func(t *testing.T, db testdb.Backend) { //nolint:thelper // a subtest, not a helper
		const cooldown = 4 * time.Second

		var (
			b = setupDelivery(t, db.URL,
				"HERALD_BREAKER_FAILURES=2",
				"HERALD_BREAKER_COOLDOWN="+cooldown.String(),
				"HERALD_RETRY_SCHEDULE=50ms,50ms,50ms,50ms,50ms,50ms,50ms,50ms")
			r = newReceiver(t, reply(500))
			_ = b.endpoint(t, r, client.EndpointInput{})
		)

		ids := make([]string, 1, 4)
		ids[0] = b.publish(t, "invoice.paid", `{"n":0}`).Id

		// The second failure in a row opens the breaker; the worker opens it
		// before it records the failure, and after the receiver answered.
		opened := r.await(t, 2)[1].at

		require.Eventually(t, func() bool {
			res, err := b.api.GetMessageWithResponse(t.Context(), b.tenant, ids[0])
			return err == nil && res.JSON200 != nil && res.JSON200.Deliveries[0].Attempts == 2
		}, waitFor, 10*time.Millisecond, "the second failure is not on record:\n%s", b)

		for i := range 3 {
			ids = append(ids, b.publish(t, "invoice.paid", fmt.Sprintf(`{"n":%d}`, i+1)).Id)
		}

		// While it is open nothing is sent and the new deliveries wait with no
		// attempt spent. A round of checks counts only if it ended within
		// the cooldown: the probe may come any time after.
		rounds := 0

		for {
			sent := len(r.received())

			held := make([]client.Delivery, 0, len(ids)-1)
			for _, id := range ids[1:] {
				held = append(held, b.message(t, id).Deliveries[0])
			}

			if time.Since(opened) >= cooldown {
				break
			}

			rounds++

			require.Equal(t, 2, sent, "a request while the breaker is open")

			for _, d := range held {
				require.Equal(t, client.DeliveryStatusPending, d.Status)
				require.Zero(t, d.Attempts, "an attempt spent while the breaker is open")
			}

			time.Sleep(100 * time.Millisecond)
		}

		require.Positive(t, rounds, "no round of checks ended within the %s cooldown", cooldown)

		probe := r.await(t, 3)[2]
		require.GreaterOrEqual(t, probe.at.Sub(opened), cooldown-100*time.Millisecond,
			"the probe came before the cooldown ended")

		// Every attempt counted is a request the receiver got.
		require.Eventually(t, func() bool {
			spent := 0

			for _, id := range ids {
				res, err := b.api.GetMessageWithResponse(t.Context(), b.tenant, id)
				if err != nil || res.JSON200 == nil {
					return false
				}

				spent += res.JSON200.Deliveries[0].Attempts
			}

			return spent == len(r.received())
		}, waitFor, 20*time.Millisecond, "attempts recorded differ from requests sent")
	})
}

func TestHangingEndpointDoesNotDelayOthers(t *testing.T) {
	t.Parallel()

	testdb.Each(t, func(t *testing.T, db testdb.Backend) { //nolint:thelper // a subtest, not a helper
		// Long enough for SQLite under the race detector to deliver every
		// healthy message well within it.
		const timeout = 10 * time.Second

		var (
			b = setupDelivery(t, db.URL,
				"HERALD_ENDPOINT_CONCURRENCY=2",
				"HERALD_DELIVERY_TIMEOUT="+timeout.String())
			hanging = newReceiver(t, answer{hang: true})
			healthy = newReceiver(t)
		)

		toHanging := b.endpoint(t, hanging, client.EndpointInput{})
		b.endpoint(t, healthy, client.EndpointInput{})

		began := time.Now()

		published := b.publishMany(t, 20, 2)

		// Well before the first hanging attempt times out, the healthy endpoint
		// has every message.
		require.Eventually(t, func() bool { return len(healthy.received()) >= len(published) },
			time.Until(began.Add(timeout*5/6)), 10*time.Millisecond,
			"the healthy endpoint waited for the hanging one")

		require.ElementsMatch(t, published, webhookIDs(healthy.await(t, len(published))))
		require.NotEmpty(t, hanging.received())
		require.LessOrEqual(t, hanging.maxInFlight(), 2, "HERALD_ENDPOINT_CONCURRENCY=2")

		// The hanging attempts end at the timeout, as failures without an answer.
		var timedOut []client.Attempt

		require.Eventually(t, func() bool {
			status := client.ListEndpointAttemptsParamsStatusFailed
			res, err := b.api.ListEndpointAttemptsWithResponse(t.Context(), b.tenant, toHanging.Id,
				&client.ListEndpointAttemptsParams{Status: &status})
			if err != nil || res.JSON200 == nil {
				return false
			}

			timedOut = res.JSON200.Data

			return len(timedOut) > 0
		}, timeout+waitFor, 20*time.Millisecond, "no timed-out attempt recorded:\n%s", b)

		for _, a := range timedOut {
			require.Nil(t, a.StatusCode)
			require.NotNil(t, a.Error)
			require.Contains(t, *a.Error, "no answer within "+timeout.String())
		}
	})
}
