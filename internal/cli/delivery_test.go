package cli_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/testdb"
)

// deliveryBundle is a running Herald and the tenant a test publishes to.
type deliveryBundle struct {
	api    *client.ClientWithResponses
	tenant string

	// log holds what the processes write to stderr, for failure messages.
	log []*buffer
}

// setupDelivery runs herald serve on the empty database at url with a short
// retry schedule, receivers on 127.0.0.1 allowed, and more HERALD_*
// variables, which win over those; it makes the tenant "acme".
func setupDelivery(t *testing.T, url string, more ...string) *deliveryBundle {
	t.Helper()

	vars := append([]string{
		"HERALD_ALLOWED_NETWORKS=127.0.0.0/8",
		"HERALD_RETRY_SCHEDULE=200ms,200ms",
	}, more...)

	r := start(t, environ(url, vars...), "serve")
	b := newBundle(t, r.await(t, listeningRe), r.await(t, keyRe))
	b.log = []*buffer{r.stderr}

	return b
}

// String returns the logs of the processes.
func (b *deliveryBundle) String() string {
	var logs strings.Builder
	for _, l := range b.log {
		logs.WriteString(l.String())
	}

	return logs.String()
}

// newBundle makes the tenant "acme" through the API at url.
func newBundle(t *testing.T, url, key string) *deliveryBundle {
	t.Helper()

	b := &deliveryBundle{api: newClient(t, url, key), tenant: "acme"}

	res, err := b.api.PutTenantWithResponse(t.Context(), b.tenant, client.TenantInput{})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, res.StatusCode(), string(res.Body))

	return b
}

// endpoint registers an endpoint of the tenant at the receiver, unless in
// names another URL, and has the receiver trust its secret.
func (b *deliveryBundle) endpoint(t *testing.T, r *receiver, in client.EndpointInput) client.Endpoint {
	t.Helper()

	if in.Url == "" {
		in.Url = r.URL + "/webhooks"
	}

	res, err := b.api.CreateEndpointWithResponse(t.Context(), b.tenant, in)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, res.StatusCode(), string(res.Body))

	r.trust(b.secret(t, res.JSON201.Id))

	return *res.JSON201
}

// secret returns the endpoint's current signing secret.
func (b *deliveryBundle) secret(t *testing.T, endpointID string) string {
	t.Helper()

	res, err := b.api.GetEndpointSecretWithResponse(t.Context(), b.tenant, endpointID)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), string(res.Body))

	return res.JSON200.Key
}

// publishBody sends body, a raw JSON publish request, as it is.
func (b *deliveryBundle) publishBody(t *testing.T, body string) *client.PublishMessageResponse {
	t.Helper()

	res, err := b.api.PublishMessageWithBodyWithResponse(t.Context(), b.tenant, "application/json",
		strings.NewReader(body))
	require.NoError(t, err)

	return res
}

// publish publishes payload, JSON kept byte for byte, and requires 202.
func (b *deliveryBundle) publish(t *testing.T, eventType, payload string) client.PublishedMessage {
	t.Helper()

	res := b.publishBody(t, fmt.Sprintf(`{"event_type":%q,"payload":%s}`, eventType, payload))
	require.Equal(t, http.StatusAccepted, res.StatusCode(), string(res.Body))

	return *res.JSON202
}

// publishMany publishes n messages, each to endpoints endpoints, and
// returns their ids.
func (b *deliveryBundle) publishMany(t *testing.T, n, endpoints int) []string {
	t.Helper()

	ids := make([]string, n)
	for i := range ids {
		m := b.publish(t, "invoice.paid", fmt.Sprintf(`{"n":%d}`, i))
		require.Equal(t, endpoints, m.EndpointCount)

		ids[i] = m.Id
	}

	return ids
}

// message returns the message with its deliveries.
func (b *deliveryBundle) message(t *testing.T, id string) client.Message {
	t.Helper()

	res, err := b.api.GetMessageWithResponse(t.Context(), b.tenant, id)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), string(res.Body))

	return *res.JSON200
}

// settled waits until no delivery of the message is pending and returns the
// message.
func (b *deliveryBundle) settled(t *testing.T, id string) client.Message {
	t.Helper()

	var m client.Message

	require.Eventually(t, func() bool {
		res, err := b.api.GetMessageWithResponse(t.Context(), b.tenant, id)
		if err != nil || res.JSON200 == nil {
			return false
		}

		m = *res.JSON200

		return !slices.ContainsFunc(m.Deliveries, func(d client.Delivery) bool {
			return d.Status == client.DeliveryStatusPending
		})
	}, waitFor, 20*time.Millisecond, "a delivery of %s is still pending: %+v\n%s", id, &m.Deliveries, b)

	return m
}

// attempts returns the message's attempts, newest first.
func (b *deliveryBundle) attempts(t *testing.T, messageID string) []client.Attempt {
	t.Helper()

	res, err := b.api.ListMessageAttemptsWithResponse(t.Context(), b.tenant, messageID, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), string(res.Body))

	return res.JSON200.Data
}

// failedAttempts returns the endpoint's failed attempts, newest first.
func (b *deliveryBundle) failedAttempts(t *testing.T, endpointID string) []client.Attempt {
	t.Helper()

	status := client.ListEndpointAttemptsParamsStatusFailed
	res, err := b.api.ListEndpointAttemptsWithResponse(t.Context(), b.tenant, endpointID,
		&client.ListEndpointAttemptsParams{Status: &status})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), string(res.Body))

	return res.JSON200.Data
}

// deliveryTo returns the message's delivery to the endpoint.
func deliveryTo(t *testing.T, m client.Message, endpointID string) client.Delivery {
	t.Helper()

	i := slices.IndexFunc(m.Deliveries, func(d client.Delivery) bool { return d.EndpointId == endpointID })
	require.GreaterOrEqual(t, i, 0, "message %s has no delivery to %s", m.Id, endpointID)

	return m.Deliveries[i]
}

// requireProblem checks that an answer is an application/problem+json
// problem with status, about field unless field is empty.
func requireProblem(t *testing.T, res *http.Response, body []byte, status int, field string) client.Problem {
	t.Helper()

	require.Equal(t, status, res.StatusCode, string(body))

	mediaType, _, err := mime.ParseMediaType(res.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "application/problem+json", mediaType)

	var p client.Problem
	require.NoError(t, json.Unmarshal(body, &p))
	require.Equal(t, status, p.Status)
	require.NotEmpty(t, p.Detail)

	if field != "" {
		require.NotNil(t, p.Field, string(body))
		require.Equal(t, field, *p.Field)
	}

	return p
}

// newSecret returns a fresh signing secret in the whsec_ form.
func newSecret(t *testing.T) string {
	t.Helper()

	key := make([]byte, 32)
	_, err := rand.Read(key)
	require.NoError(t, err)

	return "whsec_" + base64.StdEncoding.EncodeToString(key)
}

func TestDeliveryToMatchingEndpoints(t *testing.T) {
	t.Parallel()

	testdb.Each(t, func(t *testing.T, db testdb.Backend) { //nolint:thelper // a subtest, not a helper
		var (
			b        = setupDelivery(t, db.URL)
			wild     = newReceiver(t)
			exact    = newReceiver(t)
			other    = newReceiver(t)
			disabled = newReceiver(t)
		)

		toWild := b.endpoint(t, wild, client.EndpointInput{
			EventTypes: &[]string{"invoice.*"},
			Headers:    &client.Headers{"X-Receiver-Token": "wild-token"},
		})
		toExact := b.endpoint(t, exact, client.EndpointInput{
			EventTypes: &[]string{"invoice.paid"},
			Headers:    &client.Headers{"X-Receiver-Token": "exact-token"},
		})
		b.endpoint(t, other, client.EndpointInput{EventTypes: &[]string{"customer.created"}})
		b.endpoint(t, disabled, client.EndpointInput{Disabled: new(true)})

		// Odd spacing, keys out of order and characters a JSON encoder escapes:
		// the receivers must get these bytes unchanged.
		const payload = `{ "zeta":1,"alpha" : [ 1,2 ,3 ],  "note":"<b>caf\u00e9 & tea</b>","nested":{"b":true ,"a":null} }`

		published := b.publish(t, "invoice.paid", payload)
		require.Equal(t, 2, published.EndpointCount)

		m := b.settled(t, published.Id)
		require.Len(t, m.Deliveries, 2)

		for _, to := range []struct {
			r      *receiver
			ep     client.Endpoint
			header string
		}{{wild, toWild, "wild-token"}, {exact, toExact, "exact-token"}} {
			d := deliveryTo(t, m, to.ep.Id)
			require.Equal(t, client.DeliveryStatusSucceeded, d.Status)
			require.Equal(t, 1, d.Attempts)

			got := to.r.received()
			require.Len(t, got, 1, "exactly one request to %s", to.ep.Url)

			req := got[0]
			require.Equal(t, http.MethodPost, req.method)
			//nolint:testifylint // the bytes must match, not only their JSON meaning
			require.Equal(t, payload, string(req.body))
			require.Equal(t, "application/json", req.header.Get("Content-Type"))
			require.Regexp(t, `^Herald/\S+$`, req.header.Get("User-Agent"))
			require.Equal(t, to.header, req.header.Get("X-Receiver-Token"))
			require.Equal(t, published.Id, req.id())

			wh, err := standardwebhooks.NewWebhook(b.secret(t, to.ep.Id))
			require.NoError(t, err)
			require.NoError(t, wh.Verify(req.body, req.header))
		}

		require.Empty(t, other.received())
		require.Empty(t, disabled.received())

		attempts := b.attempts(t, published.Id)
		require.Len(t, attempts, 2)

		for _, a := range attempts {
			require.True(t, a.Succeeded)
			require.NotNil(t, a.StatusCode)
			require.Equal(t, http.StatusOK, *a.StatusCode)
			require.Equal(t, 1, a.Attempt)
			require.Nil(t, a.NextAttemptAt)
		}

		require.ElementsMatch(t, []string{toWild.Id, toExact.Id},
			[]string{attempts[0].EndpointId, attempts[1].EndpointId})

		// "invoice.*" covers what is under "invoice.", not "invoices.".
		unmatched := b.publish(t, "invoices.paid", `{}`)
		require.Zero(t, unmatched.EndpointCount)
		require.Empty(t, b.message(t, unmatched.Id).Deliveries)
	})
}

func TestDeliverySignedWithEverySecretDuringRotation(t *testing.T) {
	t.Parallel()

	testdb.Each(t, func(t *testing.T, db testdb.Backend) { //nolint:thelper // a subtest, not a helper
		var (
			b  = setupDelivery(t, db.URL)
			r  = newReceiver(t)
			ep = b.endpoint(t, r, client.EndpointInput{})
		)

		previous := b.secret(t, ep.Id)

		rotated, err := b.api.RotateEndpointSecretWithResponse(t.Context(), b.tenant, ep.Id, client.SecretRotation{})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, rotated.StatusCode(), string(rotated.Body))

		current := rotated.JSON200.Key
		require.NotEqual(t, previous, current)
		require.Equal(t, current, b.secret(t, ep.Id))
		require.NotNil(t, rotated.JSON200.PreviousExpiresAt)

		r.trust(current, previous)
		published := b.publish(t, "invoice.paid", `{"n":1}`)

		req := r.await(t, 1)[0]
		require.Equal(t, published.Id, req.id())

		signatures := strings.Split(req.header.Get(standardwebhooks.HeaderWebhookSignature), " ")
		require.Len(t, signatures, 2)

		for _, s := range signatures {
			require.True(t, strings.HasPrefix(s, "v1,"), s)
		}

		for _, secret := range []string{current, previous} {
			wh, err := standardwebhooks.NewWebhook(secret)
			require.NoError(t, err)
			require.NoError(t, wh.Verify(req.body, req.header))
		}

		stranger, err := standardwebhooks.NewWebhook(newSecret(t))
		require.NoError(t, err)
		require.ErrorIs(t, stranger.Verify(req.body, req.header), standardwebhooks.ErrNoMatchingSignature)
	})
}

func TestPublishWithAnEventIDDeliversOnce(t *testing.T) {
	t.Parallel()

	testdb.Each(t, func(t *testing.T, db testdb.Backend) { //nolint:thelper // a subtest, not a helper
		b := setupDelivery(t, db.URL)
		r := newReceiver(t)
		b.endpoint(t, r, client.EndpointInput{})

		const body = `{"event_type":"invoice.paid","event_id":"evt-1","payload":{"n":1}}`

		first := b.publishBody(t, body)
		require.Equal(t, http.StatusAccepted, first.StatusCode(), string(first.Body))

		again := b.publishBody(t, body)
		require.Equal(t, http.StatusOK, again.StatusCode(), string(again.Body))
		require.Equal(t, first.JSON202.Id, again.JSON200.Id)
		require.Equal(t, 1, again.JSON200.EndpointCount)

		b.settled(t, first.JSON202.Id)
		require.Len(t, r.received(), 1)

		for _, other := range []string{
			`{"event_type":"invoice.paid","event_id":"evt-1","payload":{"n":2}}`,
			`{"event_type":"invoice.voided","event_id":"evt-1","payload":{"n":1}}`,
		} {
			res := b.publishBody(t, other)
			p := requireProblem(t, res.HTTPResponse, res.Body, http.StatusConflict, "")
			require.Equal(t, "urn:herald:problem:conflict", p.Type)
		}

		// Five publishes of one event at once: one of them publishes it.
		const racing = `{"event_type":"invoice.paid","event_id":"evt-2","payload":{"n":3}}`

		var (
			wg      sync.WaitGroup
			ready   = make(chan struct{})
			results = make([]*client.PublishMessageResponse, 5)
			errs    = make([]error, 5)
		)

		for i := range results {
			wg.Go(func() {
				<-ready
				results[i], errs[i] = b.api.PublishMessageWithBodyWithResponse(t.Context(), b.tenant,
					"application/json", strings.NewReader(racing))
			})
		}

		close(ready)
		wg.Wait()

		ids := make([]string, 0, len(results))
		statuses := make([]string, 0, len(results))

		for i, res := range results {
			require.NoError(t, errs[i])
			statuses = append(statuses, res.Status())

			switch res.StatusCode() {
			case http.StatusAccepted:
				ids = append(ids, res.JSON202.Id)
			case http.StatusOK:
				ids = append(ids, res.JSON200.Id)
			}
		}

		require.ElementsMatch(t, []string{"202 Accepted", "200 OK", "200 OK", "200 OK", "200 OK"}, statuses)
		require.Len(t, slices.Compact(ids), 1, "every publish answers the same message")

		b.settled(t, ids[0])

		got := r.received()
		require.Len(t, got, 2)
		require.Equal(t, ids[0], got[1].id())
	})
}

// TestTwoWorkersDeliverEachMessageOnce runs on PostgreSQL only: it needs an
// api and two worker processes on one database, and a SQLite file admits
// one Herald process at a time.
func TestTwoWorkersDeliverEachMessageOnce(t *testing.T) {
	t.Parallel()

	const key = "a-configured-key-of-some-length"

	vars := environ(testdb.Empty(t).URL,
		"HERALD_API_KEY="+key,
		"HERALD_ALLOWED_NETWORKS=127.0.0.0/8",
		"HERALD_RETRY_SCHEDULE=200ms,200ms",
	)

	api := start(t, vars, "api")
	b := newBundle(t, api.await(t, listeningRe), key)
	workers := []*running{start(t, vars, "worker"), start(t, vars, "worker")}
	b.log = []*buffer{api.stderr, workers[0].stderr, workers[1].stderr}

	r := newReceiver(t)
	ep := b.endpoint(t, r, client.EndpointInput{})

	published := b.publishMany(t, 100, 1)

	var attempts []client.Attempt

	require.Eventually(t, func() bool {
		res, err := b.api.ListEndpointAttemptsWithResponse(t.Context(), b.tenant, ep.Id,
			&client.ListEndpointAttemptsParams{Limit: new(250)})
		if err != nil || res.JSON200 == nil {
			return false
		}

		attempts = res.JSON200.Data

		return len(attempts) >= len(published)
	}, 2*waitFor, 20*time.Millisecond, "not every message was attempted:\n%s", b)

	attempted := make([]string, 0, len(attempts))

	for _, a := range attempts {
		require.True(t, a.Succeeded, "attempt %d of %s", a.Attempt, a.MessageId)
		require.Equal(t, 1, a.Attempt)

		attempted = append(attempted, a.MessageId)
	}

	require.ElementsMatch(t, published, attempted)

	require.ElementsMatch(t, published, webhookIDs(r.await(t, len(published))), "each message exactly once")

	for _, w := range workers {
		require.NoError(t, w.stop(t))
	}

	require.NoError(t, api.stop(t))
}

// TestConcurrentPublishesShareDeliveryJobs publishes from many clients at
// once, so that publishes share transactions and their first attempts to
// each endpoint share jobs. One endpoint takes every message at once, the
// other fails each message's first try (with a breaker that stays closed
// for it): every delivery ends succeeded, with one attempt to the first and
// two to the second, and each message reaches each endpoint once per try.
func TestConcurrentPublishesShareDeliveryJobs(t *testing.T) {
	t.Parallel()

	testdb.Each(t, func(t *testing.T, db testdb.Backend) { //nolint:thelper // a subtest, not a helper
		const messages, publishers = 60, 12

		var (
			b     = setupDelivery(t, db.URL, "HERALD_BREAKER_FAILURES=1000")
			ok    = newReceiver(t)
			flaky = newMessageReceiver(t, reply(http.StatusInternalServerError), reply(http.StatusNoContent))
			toOK  = b.endpoint(t, ok, client.EndpointInput{})
			toFlk = b.endpoint(t, flaky, client.EndpointInput{})
			ids   = make(chan string, messages)
			next  = make(chan int)
			wg    sync.WaitGroup
		)

		for range publishers {
			wg.Go(func() {
				for i := range next {
					res := b.publishBody(t, fmt.Sprintf(`{"event_type":"invoice.paid","payload":{"n":%d}}`, i))
					if res.JSON202 == nil {
						t.Errorf("publish %d: %d %s", i, res.StatusCode(), res.Body)
						continue
					}

					ids <- res.JSON202.Id
				}
			})
		}

		for i := range messages {
			next <- i
		}

		close(next)
		wg.Wait()
		close(ids)

		var published []string
		for id := range ids {
			published = append(published, id)
		}

		require.Len(t, published, messages)

		for _, id := range published {
			m := b.settled(t, id)
			require.Equal(t, client.DeliveryStatusSucceeded, deliveryTo(t, m, toOK.Id).Status)
			require.Equal(t, 1, deliveryTo(t, m, toOK.Id).Attempts)
			require.Equal(t, client.DeliveryStatusSucceeded, deliveryTo(t, m, toFlk.Id).Status)
			require.Equal(t, 2, deliveryTo(t, m, toFlk.Id).Attempts)
		}

		require.ElementsMatch(t, published, webhookIDs(ok.await(t, messages)))
		require.ElementsMatch(t, append(slices.Clone(published), published...), webhookIDs(flaky.await(t, 2*messages)))
	})
}
