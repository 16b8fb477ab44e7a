package bench

import (
	"context"
	"net/http"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"
)

const (
	secret      = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	otherSecret = "whsec_QkFEU0VDUkVUQkFEU0VDUkVUQkFEU0VDUkVU"
)

// setupReceiver starts a receiver with one answering inbox, "ep", and one
// hanging inbox, "hang", and returns it with the URL of "ep".
func setupReceiver(t *testing.T) (*receiver, string) {
	t.Helper()

	rec, err := newReceiver(t.Context())
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, rec.close()) })

	url, err := rec.add("ep", secret, false)
	require.NoError(t, err)

	_, err = rec.add("hang", secret, true)
	require.NoError(t, err)

	return rec, url
}

func signer(t *testing.T, key string) *standardwebhooks.Webhook {
	t.Helper()

	wh, err := standardwebhooks.NewWebhook(key)
	require.NoError(t, err)

	return wh
}

func TestReceiverCountsDuplicatesFailuresAndUnknownIDs(t *testing.T) {
	t.Parallel()

	rec, url := setupReceiver(t)
	c := newHTTPClient(2)
	sent := map[string]time.Time{
		"msg_baseline_1": time.Now(), "msg_baseline_2": time.Now(), "msg_baseline_3": time.Now(),
	}

	require.NoError(t, sendSigned(t.Context(), c, url, signer(t, secret), 1))
	require.NoError(t, sendSigned(t.Context(), c, url, signer(t, secret), 1))
	require.NoError(t, sendSigned(t.Context(), c, url, signer(t, secret), 2))
	require.NoError(t, sendSigned(t.Context(), c, url, signer(t, secret), 9))
	require.EqualError(t, sendSigned(t.Context(), c, url, signer(t, otherSecret), 3), "post: 400 Bad Request")

	got := rec.tally([]string{"ep"}, []string{"hang"}, sent)
	require.Equal(t, 2, got.delivered)
	require.Equal(t, 1, got.lost)
	require.Equal(t, 1, got.duplicates)
	require.Equal(t, 1, got.unknown)
	require.Equal(t, 1, got.verifyFailures)
	require.Zero(t, got.hung)
	require.Len(t, got.latencies, 2)
	require.False(t, got.last.IsZero())
	require.Equal(t, 3, rec.healthyCount())
	require.Equal(t, 1, rec.missing([]string{"ep"}, sent))
}

func TestReceiverAwait(t *testing.T) {
	t.Parallel()

	rec, url := setupReceiver(t)
	c := newHTTPClient(2)
	sent := map[string]time.Time{"msg_baseline_1": time.Now(), "msg_baseline_2": time.Now()}

	require.NoError(t, sendSigned(t.Context(), c, url, signer(t, secret), 1))
	require.NoError(t, sendSigned(t.Context(), c, url, signer(t, secret), 7))

	// The count is reached, but by an id never published: await keeps
	// waiting until its deadline.
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()

	start := time.Now()
	rec.await(ctx, []string{"ep"}, sent)
	require.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond)

	wh := signer(t, secret)
	go func() { _ = sendSigned(context.Background(), c, url, wh, 2) }()

	ctx, cancel = context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	rec.await(ctx, []string{"ep"}, sent)
	require.NoError(t, ctx.Err(), "await returns once every id has arrived")
}

func TestReceiverHoldsHangingRequestsUntilLetGo(t *testing.T) {
	t.Parallel()

	rec, _ := setupReceiver(t)
	c := newHTTPClient(2)
	done := make(chan error, 1)

	wh := signer(t, secret)
	go func() { done <- sendSigned(context.Background(), c, rec.url+"/hook/hang", wh, 1) }()

	require.Eventually(t, func() bool {
		return rec.tally(nil, []string{"hang"}, nil).hung == 1
	}, 5*time.Second, 5*time.Millisecond)

	select {
	case err := <-done:
		t.Fatalf("a hanging request was answered: %v", err)
	case <-time.After(50 * time.Millisecond):
	}

	rec.letGo()
	require.EqualError(t, <-done, "post: 503 Service Unavailable")
}

func TestReceiverAnswersUnknownInbox404(t *testing.T) {
	t.Parallel()

	rec, _ := setupReceiver(t)

	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, rec.url+"/hook/nope", http.NoBody)
	require.NoError(t, err)

	res, err := newHTTPClient(1).Do(req)
	require.NoError(t, err)
	require.NoError(t, res.Body.Close())
	require.Equal(t, http.StatusNotFound, res.StatusCode)
}

func TestHTTPClientDialsLoopbackOnly(t *testing.T) {
	t.Parallel()

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://192.0.2.1:9/", http.NoBody)
	require.NoError(t, err)

	_, err = newHTTPClient(1).Do(req) //nolint:bodyclose // there is no response
	require.ErrorIs(t, err, errNotLoopback)
}

func TestCheckLoopback(t *testing.T) {
	t.Parallel()

	for _, ok := range []string{
		"http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:2",
		"postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "postgres:///test?host=/run/postgresql",
	} {
		require.NoError(t, checkLoopback(ok), ok)
	}

	for _, bad := range []string{"http://10.0.0.1", "postgres://u@db.example.com/h", "http://[::2]:1"} {
		require.ErrorIs(t, checkLoopback(bad), errNotLoopback, bad)
	}
}
