package cli_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"
)

// waitFor bounds every wait for a delivery to happen.
const waitFor = 10 * time.Second

// answer is what a receiver does with one request.
type answer struct {
	status int
	header map[string]string

	// hang holds the request until its client gives up or the test ends.
	hang bool
}

// reply answers with status alone.
func reply(status int) answer {
	return answer{status: status}
}

// received is one request a receiver got.
type received struct {
	at     time.Time
	method string
	header http.Header
	body   []byte

	// verifyErr is nil when the signature verified with every secret the
	// receiver trusted when the request came.
	verifyErr error
}

// id returns the webhook-id header.
func (r received) id() string {
	return r.header.Get(standardwebhooks.HeaderWebhookID)
}

// webhookIDs returns the webhook-id of each request.
func webhookIDs(reqs []received) []string {
	ids := make([]string, len(reqs))
	for i, r := range reqs {
		ids[i] = r.id()
	}

	return ids
}

// timestamp returns the webhook-timestamp header as Unix seconds.
func (r received) timestamp(t *testing.T) int64 {
	t.Helper()

	ts, err := strconv.ParseInt(r.header.Get(standardwebhooks.HeaderWebhookTimestamp), 10, 64)
	require.NoError(t, err)

	return ts
}

// receiver is a webhook endpoint on 127.0.0.1. It answers each request with
// the next answer of its script, repeating the last one (200 OK when the
// script is empty), and records every request with the outcome of checking
// its signature with the Standard Webhooks reference library.
type receiver struct {
	*httptest.Server

	quit chan struct{}

	mu       sync.Mutex
	script   []answer
	each     bool // the script is of each message's tries, not of all requests
	secrets  []string
	requests []received
	inFlight int
	peak     int
}

// newReceiver starts a receiver that answers with script, stopped when the
// test ends. Every request it gets must verify, or the test fails.
func newReceiver(t *testing.T, script ...answer) *receiver {
	t.Helper()

	r := &receiver{quit: make(chan struct{}), script: script}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))

	t.Cleanup(func() {
		close(r.quit) // lets hanging handlers return, so that Close does not block
		r.Close()

		for i, req := range r.received() {
			require.NoError(t, req.verifyErr, "request %d to %s", i+1, r.URL)
		}
	})

	return r
}

// newMessageReceiver starts a receiver like [newReceiver] whose script is
// that of each message: it answers the n-th try of every webhook-id with
// the n-th answer.
func newMessageReceiver(t *testing.T, script ...answer) *receiver {
	t.Helper()

	r := newReceiver(t, script...)
	r.each = true

	return r
}

// trust sets the secrets every request from now on must verify with.
func (r *receiver) trust(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()

	r.secrets = secrets
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	got := received{at: time.Now(), method: req.Method, header: req.Header.Clone()}

	var err error
	got.body, err = io.ReadAll(req.Body)

	r.mu.Lock()
	got.verifyErr = errors.Join(err, verify(got, r.secrets))
	a := r.next(r.tries(got))
	r.requests = append(r.requests, got)
	r.inFlight++
	r.peak = max(r.peak, r.inFlight)
	r.mu.Unlock()

	defer func() {
		r.mu.Lock()
		r.inFlight--
		r.mu.Unlock()
	}()

	if a.hang {
		select {
		case <-req.Context().Done():
		case <-r.quit:
		}

		return
	}

	for name, value := range a.header {
		w.Header().Set(name, value)
	}

	w.WriteHeader(a.status)
}

// tries counts the requests before got that the script counts: all of
// them, or those of got's message.
func (r *receiver) tries(got received) int {
	if !r.each {
		return len(r.requests)
	}

	n := 0
	for _, req := range r.requests {
		if req.id() == got.id() {
			n++
		}
	}

	return n
}

// next returns the answer to request n, counted from 0.
func (r *receiver) next(n int) answer {
	switch {
	case len(r.script) == 0:
		return reply(http.StatusOK)
	case n < len(r.script):
		return r.script[n]
	}

	return r.script[len(r.script)-1]
}

// verify checks a request's signature with each secret.
func verify(got received, secrets []string) error {
	if len(secrets) == 0 {
		return errors.New("the receiver trusts no secret yet")
	}

	for _, secret := range secrets {
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			return err
		}

		if err := wh.Verify(got.body, got.header); err != nil {
			return err
		}
	}

	return nil
}

// received returns the requests so far, oldest first.
func (r *receiver) received() []received {
	r.mu.Lock()
	defer r.mu.Unlock()

	return slices.Clone(r.requests)
}

// maxInFlight returns the most requests the receiver held at once.
func (r *receiver) maxInFlight() int {
	r.mu.Lock()
	defer r.mu.Unlock()

	return r.peak
}

// await waits until the receiver has had n requests and returns them all,
// each checked to verify.
func (r *receiver) await(t *testing.T, n int) []received {
	t.Helper()

	require.Eventually(t, func() bool { return len(r.received()) >= n }, waitFor, 10*time.Millisecond,
		"%s did not get %d requests", r.URL, n)

	got := r.received()
	for i, req := range got {
		require.NoError(t, req.verifyErr, "request %d", i+1)
	}

	return got
}
