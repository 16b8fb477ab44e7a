package cli_test

import (
	"net/http"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/testdb"
)

// supportBundle is a running Herald, as in [setupDelivery], with the
// fingerprint that it records for the test's API key.
type supportBundle struct {
	*deliveryBundle

	actor string
}

// setupSupport runs herald serve on the empty database at url with a retry
// schedule that gives a delivery up after three quick tries, and a breaker
// that stays closed through the failures of a test.
func setupSupport(t *testing.T, url string) *supportBundle {
	t.Helper()

	r := start(t, environ(url,
		"HERALD_ALLOWED_NETWORKS=127.0.0.0/8",
		"HERALD_RETRY_SCHEDULE=0s,10ms",
		"HERALD_BREAKER_FAILURES=1000",
	), "serve")
	key := r.await(t, keyRe)

	b := newBundle(t, r.await(t, listeningRe), key)
	b.log = []*buffer{r.stderr}

	return &supportBundle{deliveryBundle: b, actor: auth.Fingerprint(auth.Hash(key))}
}

// failing is what a receiver answers while it is down: every try of a
// delivery, of which the schedule of [setupSupport] makes three.
func failing(deliveries int) []answer {
	script := make([]answer, 3*deliveries)
	for i := range script {
		script[i] = reply(http.StatusInternalServerError)
	}

	return script
}

// settledAs waits until the message's delivery to the endpoint is settled
// and requires it to be in state status.
func (b *supportBundle) settledAs(t *testing.T, messageID, endpointID string, status client.DeliveryStatus) client.Delivery {
	t.Helper()

	d := deliveryTo(t, b.settled(t, messageID), endpointID)
	require.Equal(t, status, d.Status, "delivery of %s: %+v\n%s", messageID, d, b)

	return d
}

// resend asks for the message to be sent to the endpoint again.
func (b *supportBundle) resend(t *testing.T, messageID, endpointID string) *client.ResendMessageResponse {
	t.Helper()

	res, err := b.api.ResendMessageWithResponse(t.Context(), b.tenant, messageID, endpointID)
	require.NoError(t, err)

	return res
}

// recoverFrom starts a recovery of the endpoint from since, requires 202,
// and waits until the recovery is done.
func (b *supportBundle) recoverFrom(t *testing.T, endpointID string, since time.Time) client.Recovery {
	t.Helper()

	res, err := b.api.RecoverEndpointWithResponse(t.Context(), b.tenant, endpointID, client.RecoveryInput{Since: since})
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, res.StatusCode(), string(res.Body))
	require.NotEmpty(t, res.HTTPResponse.Header.Get("Location"))

	started := *res.JSON202

	var r client.Recovery

	require.Eventually(t, func() bool {
		got, err := b.api.GetRecoveryWithResponse(t.Context(), b.tenant, endpointID, started.Id)
		if err != nil || got.JSON200 == nil {
			return false
		}

		r = *got.JSON200

		return r.Status != client.RecoveryRunning
	}, waitFor, 20*time.Millisecond, "recovery %s still running: %+v\n%s", started.Id, &r, b)

	require.Equal(t, client.RecoveryDone, r.Status, "%+v", r)
	require.Equal(t, started.Total, r.Total)
	require.Equal(t, b.actor, r.Actor)

	return r
}

func TestSupportResendAfterFailure(t *testing.T) {
	t.Parallel()

	testdb.Each(t, func(t *testing.T, db testdb.Backend) { //nolint:thelper // a subtest, not a helper
		var (
			b  = setupSupport(t, db.URL)
			r  = newReceiver(t, append(failing(1), reply(http.StatusOK))...)
			ep = b.endpoint(t, r, client.EndpointInput{})
		)

		published := b.publish(t, "invoice.paid", `{"n":1}`)
		failed := b.settledAs(t, published.Id, ep.Id, client.DeliveryStatusFailed)
		require.Equal(t, 3, failed.Attempts)
		require.Zero(t, failed.Round)
		require.Len(t, r.received(), 3)

		// The receiver is back: send the message again.
		res := b.resend(t, published.Id, ep.Id)
		require.Equal(t, http.StatusAccepted, res.StatusCode(), string(res.Body))
		require.Equal(t, client.DeliveryStatusPending, res.JSON202.Status)
		require.Equal(t, 1, res.JSON202.Round)

		d := b.settledAs(t, published.Id, ep.Id, client.DeliveryStatusSucceeded)
		require.Equal(t, 1, d.Round)
		require.Equal(t, 4, d.Attempts)

		// The receiver got it with the same webhook-id, signed.
		got := r.await(t, 4)
		require.Len(t, got, 4)
		require.Equal(t, []string{published.Id, published.Id, published.Id, published.Id}, webhookIDs(got))

		wh, err := standardwebhooks.NewWebhook(b.secret(t, ep.Id))
		require.NoError(t, err)
		require.NoError(t, wh.Verify(got[3].body, got[3].header))
		require.JSONEq(t, `{"n":1}`, string(got[3].body))

		// The message shows who resent it.
		m := b.message(t, published.Id)
		require.Len(t, m.Replays, 1)
		require.Equal(t, client.ReplayResend, m.Replays[0].Kind)
		require.Equal(t, ep.Id, m.Replays[0].EndpointId)
		require.Equal(t, b.actor, m.Replays[0].Actor)
		require.Nil(t, m.Replays[0].RecoveryId)

		// The success is the newest attempt, numbered after the failures.
		attempts := b.attempts(t, published.Id)
		require.Len(t, attempts, 4)
		require.True(t, attempts[0].Succeeded)
		require.Equal(t, 4, attempts[0].Attempt)
	})
}

func TestSupportRecoverFailedDeliveries(t *testing.T) {
	t.Parallel()

	testdb.Each(t, func(t *testing.T, db testdb.Backend) { //nolint:thelper // a subtest, not a helper
		const n = 3

		var (
			b    = setupSupport(t, db.URL)
			r    = newReceiver(t, append(failing(n), reply(http.StatusOK))...)
			ep   = b.endpoint(t, r, client.EndpointInput{})
			from = time.Now().Add(-time.Minute)
			ids  = b.publishMany(t, n, 1)
		)

		for _, id := range ids {
			b.settledAs(t, id, ep.Id, client.DeliveryStatusFailed)
		}

		require.Len(t, r.received(), 3*n)

		// The failures are what support finds.
		status := client.DeliveryStatusFailed
		failed, err := b.api.ListDeliveriesWithResponse(t.Context(), b.tenant,
			&client.ListDeliveriesParams{Status: &status, EndpointId: &ep.Id})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, failed.StatusCode(), string(failed.Body))
		require.Len(t, failed.JSON200.Data, n)

		recovery := b.recoverFrom(t, ep.Id, from)
		require.Equal(t, n, recovery.Total)
		require.Equal(t, n, recovery.Queued)

		for _, id := range ids {
			d := b.settledAs(t, id, ep.Id, client.DeliveryStatusSucceeded)
			require.Equal(t, 1, d.Round)

			replays := b.message(t, id).Replays
			require.Len(t, replays, 1)
			require.Equal(t, client.ReplayRecover, replays[0].Kind)
			require.Equal(t, &recovery.Id, replays[0].RecoveryId)
			require.Equal(t, b.actor, replays[0].Actor)
		}

		// Each delivery was sent exactly once more.
		got := r.await(t, 4*n)
		require.Never(t, func() bool { return len(r.received()) > 4*n }, 300*time.Millisecond, 20*time.Millisecond,
			"a delivery was sent twice")

		perMessage := map[string]int{}
		for _, id := range webhookIDs(got) {
			perMessage[id]++
		}

		for _, id := range ids {
			require.Equal(t, 4, perMessage[id], "requests with webhook-id %s", id)
		}

		none, err := b.api.ListDeliveriesWithResponse(t.Context(), b.tenant,
			&client.ListDeliveriesParams{Status: &status})
		require.NoError(t, err)
		require.Empty(t, none.JSON200.Data)
	})
}

func TestSupportDisabledAndDeletedEndpoints(t *testing.T) {
	t.Parallel()

	testdb.Each(t, func(t *testing.T, db testdb.Backend) { //nolint:thelper // a subtest, not a helper
		var (
			b = setupSupport(t, db.URL)
			// One success, then down for one delivery, then back.
			r  = newReceiver(t, append(append([]answer{reply(http.StatusOK)}, failing(1)...), reply(http.StatusOK))...)
			ep = b.endpoint(t, r, client.EndpointInput{})
		)

		ok := b.publish(t, "invoice.paid", `{"n":1}`)
		b.settledAs(t, ok.Id, ep.Id, client.DeliveryStatusSucceeded)

		lost := b.publish(t, "invoice.paid", `{"n":2}`)
		b.settledAs(t, lost.Id, ep.Id, client.DeliveryStatusFailed)

		disable, err := b.api.UpdateEndpointWithResponse(t.Context(), b.tenant, ep.Id, client.EndpointPatch{
			Disabled: new(true), DisabledReason: new("receiver down"),
		})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, disable.StatusCode(), string(disable.Body))

		// A disabled endpoint is refused, with why and what to do.
		res := b.resend(t, lost.Id, ep.Id)
		p := requireProblem(t, res.HTTPResponse, res.Body, http.StatusConflict, "")
		require.Contains(t, p.Detail, "disabled: receiver down")
		require.Contains(t, p.Detail, "enable it first")

		refused, err := b.api.RecoverEndpointWithResponse(t.Context(), b.tenant, ep.Id,
			client.RecoveryInput{Since: time.Now().Add(-time.Hour)})
		require.NoError(t, err)
		p = requireProblem(t, refused.HTTPResponse, refused.Body, http.StatusConflict, "")
		require.Contains(t, p.Detail, "disabled: receiver down")

		// Enabled again, it recovers what failed since its last success.
		enable, err := b.api.UpdateEndpointWithResponse(t.Context(), b.tenant, ep.Id, client.EndpointPatch{
			Disabled: new(false),
		})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, enable.StatusCode(), string(enable.Body))

		health, err := b.api.GetEndpointHealthWithResponse(t.Context(), b.tenant, ep.Id)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, health.StatusCode(), string(health.Body))
		require.NotNil(t, health.JSON200.LastSuccessAt)
		require.Equal(t, 3, health.JSON200.FailureStreak)

		recovery := b.recoverFrom(t, ep.Id, *health.JSON200.LastSuccessAt)
		require.Equal(t, 1, recovery.Total)

		b.settledAs(t, lost.Id, ep.Id, client.DeliveryStatusSucceeded)
		require.Len(t, r.await(t, 5), 5)

		// A deleted endpoint is not found.
		deleted, err := b.api.DeleteEndpointWithResponse(t.Context(), b.tenant, ep.Id)
		require.NoError(t, err)
		require.Equal(t, http.StatusNoContent, deleted.StatusCode())

		res = b.resend(t, ok.Id, ep.Id)
		p = requireProblem(t, res.HTTPResponse, res.Body, http.StatusNotFound, "")
		require.Contains(t, p.Detail, ep.Id)
		require.Len(t, r.received(), 5)
	})
}
