package delivery_test

import (
	"bytes"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/egress"
	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/signing"
	"github.com/heraldhq/herald/internal/subscriptions"
)

func TestWorkRequest(t *testing.T) {
	t.Parallel()

	b := setup(t)
	r := newReceiver(t, nil)

	e := b.endpoint(t, r.URL+"/in/hooks?source=herald&x=%2F", subscriptions.EndpointParams{
		Headers: map[string]string{"Authorization": "Bearer t0k3n", "X-Tenant": "acme"},
	})

	// A rotation leaves two secrets signing.
	previous := e.Secret
	next, err := signing.NewSecret()
	require.NoError(t, err)

	e, err = b.store.UpdateEndpoint(t.Context(), tenantID, e.ID, func(e *subscriptions.Endpoint) error {
		e.RotateSecret(next)
		return nil
	})
	require.NoError(t, err)

	// The payload goes out byte for byte, odd spacing and escapes included.
	payload := " {\"b\" : 1,\n\t\"a\":\"\\u00e9<&>\"} "
	tg := target{message: b.publish(t, payload), endpoint: e}

	before := time.Now()
	require.NoError(t, b.worker(nil).Work(t.Context(), tg.job()))

	got := r.got()
	require.Len(t, got, 1)

	req := got[0]
	require.Equal(t, http.MethodPost, req.method)
	require.Equal(t, "/in/hooks?source=herald&x=%2F", req.uri)
	require.Equal(t, []byte(payload), req.body)

	require.Equal(t, "application/json", req.header.Get("Content-Type"))
	require.Equal(t, userAgent, req.header.Get("User-Agent"))
	require.Equal(t, "Bearer t0k3n", req.header.Get("Authorization"))
	require.Equal(t, "acme", req.header.Get("X-Tenant"))
	require.Equal(t, tg.message.ID, req.header.Get("Webhook-Id"))

	ts, err := strconv.ParseInt(req.header.Get("Webhook-Timestamp"), 10, 64)
	require.NoError(t, err)
	require.WithinRange(t, time.Unix(ts, 0), before.Add(-time.Second), time.Now())

	signatures := strings.Fields(req.header.Get("Webhook-Signature"))
	require.Len(t, signatures, 2)

	for _, secret := range []signing.Secret{next, previous} {
		wh, err := standardwebhooks.NewWebhook(secret.Encode())
		require.NoError(t, err)
		require.NoError(t, wh.Verify(req.body, req.header))
	}

	// A secret the endpoint never had does not verify.
	stranger, err := signing.NewSecret()
	require.NoError(t, err)

	wh, err := standardwebhooks.NewWebhook(stranger.Encode())
	require.NoError(t, err)
	require.Error(t, wh.Verify(req.body, req.header))

	// Neither the secret nor the payload reaches the logs.
	require.NotContains(t, b.logs.String(), "whsec_")
	require.NotContains(t, b.logs.String(), "u00e9")
}

func TestWorkRedirectNotFollowed(t *testing.T) {
	t.Parallel()

	b := setup(t)
	elsewhere := newReceiver(t, nil)
	r := newReceiver(t, func(w http.ResponseWriter, req *http.Request) {
		http.Redirect(w, req, elsewhere.URL+"/hooks", http.StatusFound)
	})
	tg := b.deliverTo(t, r)

	requireSnooze(t, b.worker(nil).Work(t.Context(), tg.job()), 10*time.Second, time.Second)
	require.Len(t, r.got(), 1)
	require.Empty(t, elsewhere.got(), "the redirect was followed")

	a := b.attempts(t, tg)[0]
	require.False(t, a.Succeeded)
	require.Equal(t, http.StatusFound, a.StatusCode)
	require.Equal(t, "the endpoint answered 302 Found", a.Error)

	require.Equal(t, messages.StatusPending, b.state(t, tg).Status)
}

func TestWorkRefusedDestination(t *testing.T) {
	t.Parallel()

	b := setup(t)
	r := newReceiver(t, nil)
	tg := b.deliverTo(t, r)

	// The default policy: public addresses only.
	w := b.worker(func(cfg *delivery.Config) { cfg.Egress = egress.NewPolicy(nil) })

	requireSnooze(t, w.Work(t.Context(), tg.job()), 10*time.Second, time.Second)
	require.Empty(t, r.got(), "a refused destination was reached")

	attempts := b.attempts(t, tg)
	require.Len(t, attempts, 1)

	a := attempts[0]
	require.False(t, a.Succeeded)
	require.Zero(t, a.StatusCode)
	require.Empty(t, a.ResponseBody)
	require.Contains(t, a.Error, egress.ErrRefused.Error())
	require.Contains(t, a.Error, "127.0.0.1")
	require.NotContains(t, a.Error, "POST", "the method and URL are dropped")

	d := b.state(t, tg)
	require.Equal(t, messages.StatusPending, d.Status)
	require.Equal(t, 1, d.Attempts)
}

func TestWorkTimeout(t *testing.T) {
	t.Parallel()

	b := setup(t)
	r := newReceiver(t, func(w http.ResponseWriter, req *http.Request) {
		// Hang until Herald hangs up, or 10s at most.
		select {
		case <-req.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	tg := b.deliverTo(t, r)
	w := b.worker(func(cfg *delivery.Config) { cfg.Timeout = 200 * time.Millisecond })

	start := time.Now()
	requireSnooze(t, w.Work(t.Context(), tg.job()), 10*time.Second, time.Second)
	require.Less(t, time.Since(start), 5*time.Second)

	attempts := b.attempts(t, tg)
	require.Len(t, attempts, 1)

	a := attempts[0]
	require.Equal(t, "no answer within 200ms", a.Error)
	require.Zero(t, a.StatusCode)
	require.False(t, a.Succeeded)
	require.GreaterOrEqual(t, a.Duration, 200*time.Millisecond)
}

func TestWorkConnectionRefused(t *testing.T) {
	t.Parallel()

	b := setup(t)

	// A port nothing listens on any more.
	l, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)

	addr := l.Addr().String()
	require.NoError(t, l.Close())

	e := b.endpoint(t, "http://"+addr+"/hooks", subscriptions.EndpointParams{})
	tg := target{message: b.publish(t, `{}`), endpoint: e}

	requireSnooze(t, b.worker(nil).Work(t.Context(), tg.job()), 10*time.Second, time.Second)

	attempts := b.attempts(t, tg)
	require.Len(t, attempts, 1)
	require.Contains(t, attempts[0].Error, "connection refused")
	require.Zero(t, attempts[0].StatusCode)
}

func TestWorkLargeResponse(t *testing.T) {
	t.Parallel()

	b := setup(t)

	// 10 KiB of a pattern that shows where it was cut.
	var body bytes.Buffer
	for i := 0; body.Len() < 10<<10; i++ {
		body.WriteString(strconv.Itoa(i) + ",")
	}

	r := newReceiver(t, answering(http.StatusOK, body.String()))
	tg := b.deliverTo(t, r)

	require.NoError(t, b.worker(nil).Work(t.Context(), tg.job()))

	a := b.attempts(t, tg)[0]
	require.True(t, a.Succeeded)
	require.Equal(t, body.Bytes()[:4<<10], a.ResponseBody)
}

func TestWorkResponseCutShort(t *testing.T) {
	t.Parallel()

	b := setup(t)
	r := newReceiver(t, func(w http.ResponseWriter, req *http.Request) {
		// Promise a body, send part of it, then hang.
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("partial"))
		w.(http.Flusher).Flush()

		select {
		case <-req.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	tg := b.deliverTo(t, r)
	w := b.worker(func(cfg *delivery.Config) { cfg.Timeout = 200 * time.Millisecond })

	requireSnooze(t, w.Work(t.Context(), tg.job()), 10*time.Second, time.Second)

	a := b.attempts(t, tg)[0]
	require.False(t, a.Succeeded, "an answer that never ends is no success")
	require.Equal(t, http.StatusOK, a.StatusCode)
	require.NotEmpty(t, a.Error)
	require.Equal(t, messages.StatusPending, b.state(t, tg).Status)
}
