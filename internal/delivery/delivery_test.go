package delivery_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/breaker"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/egress"
	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/postgres"
	"github.com/heraldhq/herald/internal/retry"
	"github.com/heraldhq/herald/internal/store/storetest"
	"github.com/heraldhq/herald/internal/subscriptions"
	"github.com/heraldhq/herald/internal/testdb"
)

// The tenant every test delivers for, and what its worker sends.
const (
	tenantID  = "acme"
	userAgent = "Herald-Test/1.0"
)

// testBundle is one test's worker on its own schema.
type testBundle struct {
	db       *testdb.DB
	store    *postgres.Store
	breakers *breaker.Registry
	logs     *syncBuffer

	// cfg is what [testBundle.worker] builds from: loopback allowed, two
	// exact retries after 10s and 20s, a 2s timeout.
	cfg delivery.Config
}

func setup(t *testing.T) *testBundle {
	t.Helper()

	var (
		db       = testdb.New(t)
		store    = postgres.New(db.Pool)
		breakers = breaker.NewRegistry(breaker.Settings{})
		logs     = &syncBuffer{}
	)

	tenant, err := subscriptions.NewTenant(tenantID, subscriptions.TenantParams{})
	require.NoError(t, err)

	_, _, err = store.PutTenant(t.Context(), tenant)
	require.NoError(t, err)

	return &testBundle{
		db:       db,
		store:    store,
		breakers: breakers,
		logs:     logs,
		cfg: delivery.Config{
			Store:     store,
			Breakers:  breakers,
			Egress:    egress.NewPolicy([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}),
			Schedule:  retry.Schedule{10 * time.Second, 20 * time.Second},
			Jitter:    -1,
			Timeout:   2 * time.Second,
			UserAgent: userAgent,
			Logger:    slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		},
	}
}

// worker returns a worker of the bundle's config, changed by change.
func (b *testBundle) worker(change func(cfg *delivery.Config)) *delivery.Worker {
	cfg := b.cfg
	if change != nil {
		change(&cfg)
	}

	return delivery.NewWorker(cfg)
}

// endpoint stores an endpoint of the tenant at url; params may set the
// rest.
func (b *testBundle) endpoint(t *testing.T, url string, params subscriptions.EndpointParams) subscriptions.Endpoint {
	t.Helper()

	params.URL = url

	e, err := subscriptions.NewEndpoint(tenantID, params)
	require.NoError(t, err)
	require.NoError(t, b.store.CreateEndpoint(t.Context(), e))

	return e
}

// publish stores a message with payload and a pending delivery to every
// enabled endpoint of the tenant.
func (b *testBundle) publish(t *testing.T, payload string) messages.Message {
	t.Helper()

	m, err := messages.New(tenantID, messages.Params{EventType: "invoice.paid", Payload: []byte(payload)}, 0)
	require.NoError(t, err)

	_, err = b.store.WithEnqueue(noop).PublishMessage(t.Context(), m)
	require.NoError(t, err)

	return m
}

// target is one delivery the test works.
type target struct {
	message  messages.Message
	endpoint subscriptions.Endpoint
}

// job returns the River job of the delivery, in its first run.
func (tg target) job() *river.Job[delivery.Args] {
	return &river.Job[delivery.Args]{
		JobRow: &rivertype.JobRow{Attempt: 1, MaxAttempts: delivery.Args{}.InsertOpts().MaxAttempts},
		Args:   delivery.Args{MessageID: tg.message.ID, EndpointID: tg.endpoint.ID},
	}
}

// deliverTo makes an endpoint at the receiver and a message to it.
func (b *testBundle) deliverTo(t *testing.T, r *receiver) target {
	t.Helper()

	e := b.endpoint(t, r.URL+"/hooks", subscriptions.EndpointParams{})

	return target{message: b.publish(t, `{"invoice_id":"inv_1"}`), endpoint: e}
}

// state returns the delivery's state.
func (b *testBundle) state(t *testing.T, tg target) messages.Delivery {
	t.Helper()

	_, deliveries, err := b.store.GetMessage(t.Context(), tenantID, tg.message.ID)
	require.NoError(t, err)

	for _, d := range deliveries {
		if d.EndpointID == tg.endpoint.ID {
			return d
		}
	}

	require.FailNow(t, "no delivery", "message %s to endpoint %s", tg.message.ID, tg.endpoint.ID)

	return messages.Delivery{}
}

// attempts returns the delivery's attempts, oldest first.
func (b *testBundle) attempts(t *testing.T, tg target) []messages.Attempt {
	t.Helper()

	all, err := b.store.ListMessageAttempts(t.Context(), tenantID, tg.message.ID, "", 100)
	require.NoError(t, err)

	var out []messages.Attempt

	for _, a := range slices.Backward(all) {
		if a.EndpointID == tg.endpoint.ID {
			out = append(out, a)
		}
	}

	return out
}

// requireSnooze asserts that err asks River to snooze the job for about
// want: no longer, and less by at most slack.
func requireSnooze(t *testing.T, err error, want, slack time.Duration) {
	t.Helper()

	snooze, ok := errors.AsType[*river.JobSnoozeError](err)
	require.True(t, ok, "error %v is not a snooze", err)
	require.LessOrEqual(t, snooze.Duration, want)
	require.GreaterOrEqual(t, snooze.Duration, want-slack)
}

// received is one request a receiver got.
type received struct {
	method string
	uri    string
	header http.Header
	body   []byte
}

// receiver is a webhook receiver on 127.0.0.1 that records every request
// and answers with its handler.
type receiver struct {
	*httptest.Server

	mu       sync.Mutex
	requests []received
}

// newReceiver starts a receiver answering with handler; a nil handler
// answers 204.
func newReceiver(t *testing.T, handler http.HandlerFunc) *receiver {
	t.Helper()

	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}

		r.mu.Lock()
		r.requests = append(r.requests, received{
			method: req.Method, uri: req.RequestURI, header: req.Header.Clone(), body: body,
		})
		r.mu.Unlock()

		if handler == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}

		req.Body = io.NopCloser(bytes.NewReader(body))
		handler(w, req)
	}))
	t.Cleanup(r.Close)

	return r
}

// answering returns a handler that answers status with body.
func answering(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// got returns the requests received so far.
func (r *receiver) got() []received {
	r.mu.Lock()
	defer r.mu.Unlock()

	return append([]received(nil), r.requests...)
}

// syncBuffer is a buffer the worker may log to while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()

	return b.buf.Write(p) //nolint:wrapcheck // bytes.Buffer never fails
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()

	return b.buf.String()
}

func TestArgs(t *testing.T) {
	t.Parallel()

	var args delivery.Args
	require.Equal(t, "deliver", args.Kind())
	require.Equal(t, delivery.Queue, args.InsertOpts().Queue)
	require.Equal(t, "deliveries", delivery.Queue)
	require.Positive(t, args.InsertOpts().MaxAttempts)
}

func TestWorkerTimeout(t *testing.T) {
	t.Parallel()

	b := setup(t)

	// A job has time for its attempt and the bookkeeping around it.
	for _, timeout := range []time.Duration{200 * time.Millisecond, 15 * time.Second, time.Minute} {
		w := b.worker(func(cfg *delivery.Config) { cfg.Timeout = timeout })
		require.Equal(t, delivery.JobTimeout(timeout), w.Timeout(nil))
		require.Greater(t, w.Timeout(nil), timeout)
	}

	// Zero takes the default attempt timeout of 15s.
	w := b.worker(func(cfg *delivery.Config) { cfg.Timeout = 0 })
	require.Equal(t, delivery.JobTimeout(15*time.Second), w.Timeout(nil))
	require.Equal(t, delivery.JobTimeout(15*time.Second), delivery.JobTimeout(0))
}

func TestWorkSucceeds(t *testing.T) {
	t.Parallel()

	for _, status := range []int{200, 201, 202, 204, 299} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()

			b := setup(t)
			r := newReceiver(t, answering(status, "thanks"))
			tg := b.deliverTo(t, r)
			before := time.Now()

			require.NoError(t, b.worker(nil).Work(t.Context(), tg.job()))
			require.Len(t, r.got(), 1)

			attempts := b.attempts(t, tg)
			require.Len(t, attempts, 1)

			a := attempts[0]
			require.True(t, a.Succeeded)
			require.Equal(t, 1, a.Number)
			require.Equal(t, status, a.StatusCode)
			require.Empty(t, a.Error)
			require.True(t, a.NextAttemptAt.IsZero())
			require.WithinRange(t, a.StartedAt, before.Add(-time.Second), time.Now())
			require.Positive(t, a.Duration)

			if status != http.StatusNoContent {
				require.Equal(t, []byte("thanks"), a.ResponseBody)
			}

			d := b.state(t, tg)
			require.Equal(t, messages.StatusSucceeded, d.Status)
			require.Equal(t, 1, d.Attempts)
			require.True(t, d.NextAttemptAt.IsZero())
			require.Empty(t, d.Reason)

			// A success is not logged.
			require.NotContains(t, b.logs.String(), "delivery attempt failed")
		})
	}
}

func TestWorkRetries(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		status int
		body   string
		err    string
	}{
		{name: "500", status: 500, body: "boom", err: "the endpoint answered 500 Internal Server Error"},
		{name: "502", status: 502, err: "the endpoint answered 502 Bad Gateway"},
		{name: "404", status: 404, body: "no such hook", err: "the endpoint answered 404 Not Found"},
		{name: "400", status: 400, err: "the endpoint answered 400 Bad Request"},
		{name: "304", status: 304, err: "the endpoint answered 304 Not Modified"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			b := setup(t)
			r := newReceiver(t, answering(tt.status, tt.body))
			tg := b.deliverTo(t, r)

			err := b.worker(nil).Work(t.Context(), tg.job())
			requireSnooze(t, err, 10*time.Second, time.Second)

			attempts := b.attempts(t, tg)
			require.Len(t, attempts, 1)

			a := attempts[0]
			require.False(t, a.Succeeded)
			require.Equal(t, tt.status, a.StatusCode)
			require.Equal(t, tt.err, a.Error)
			require.Equal(t, tt.body, string(a.ResponseBody))
			require.Equal(t, a.StartedAt.Add(a.Duration+10*time.Second), a.NextAttemptAt)

			d := b.state(t, tg)
			require.Equal(t, messages.StatusPending, d.Status)
			require.Equal(t, 1, d.Attempts)
			require.Equal(t, a.NextAttemptAt, d.NextAttemptAt)

			// A failed attempt is the endpoint's fault: Info, never the
			// payload.
			logs := b.logs.String()
			require.Contains(t, logs, `"level":"INFO","msg":"delivery attempt failed"`)
			require.Contains(t, logs, `"message_id":"`+tg.message.ID+`"`)
			require.Contains(t, logs, `"status_code":`+strconv.Itoa(tt.status))
			require.NotContains(t, logs, "inv_1")
		})
	}
}

func TestWorkGivesUp(t *testing.T) {
	t.Parallel()

	b := setup(t)
	r := newReceiver(t, answering(500, "still down"))
	tg := b.deliverTo(t, r)
	w := b.worker(func(cfg *delivery.Config) { cfg.Schedule = retry.Schedule{time.Second} })

	requireSnooze(t, w.Work(t.Context(), tg.job()), time.Second, time.Second)
	require.NoError(t, w.Work(t.Context(), tg.job()), "an exhausted schedule is not a job failure")
	require.Len(t, r.got(), 2)

	attempts := b.attempts(t, tg)
	require.Len(t, attempts, 2)
	require.Equal(t, 2, attempts[1].Number)
	require.True(t, attempts[1].NextAttemptAt.IsZero())
	require.Equal(t, "the endpoint answered 500 Internal Server Error", attempts[1].Error)

	d := b.state(t, tg)
	require.Equal(t, messages.StatusFailed, d.Status)
	require.Equal(t, "gave up after 2 attempts", d.Reason)
	require.Equal(t, 2, d.Attempts)
	require.True(t, d.NextAttemptAt.IsZero())

	// The delivery is over: another run sends nothing.
	require.NoError(t, w.Work(t.Context(), tg.job()))
	require.Len(t, r.got(), 2)
}

func TestWorkDefaultSchedule(t *testing.T) {
	t.Parallel()

	b := setup(t)
	r := newReceiver(t, answering(500, ""))
	tg := b.deliverTo(t, r)

	// No schedule and no jitter set: the default's 5s, spread by ±20%.
	w := b.worker(func(cfg *delivery.Config) { cfg.Schedule, cfg.Jitter = nil, 0 })

	snooze, ok := errors.AsType[*river.JobSnoozeError](w.Work(t.Context(), tg.job()))
	require.True(t, ok)
	require.GreaterOrEqual(t, snooze.Duration, 4*time.Second-time.Second)
	require.LessOrEqual(t, snooze.Duration, 6*time.Second)
}

func TestWorkGone(t *testing.T) {
	t.Parallel()

	b := setup(t)
	r := newReceiver(t, answering(http.StatusGone, "we moved"))
	other := newReceiver(t, nil)

	var (
		e        = b.endpoint(t, r.URL, subscriptions.EndpointParams{})
		elsewise = b.endpoint(t, other.URL, subscriptions.EndpointParams{})
		first    = b.publish(t, `{"n":1}`)
		second   = b.publish(t, `{"n":2}`)
		tg       = target{message: first, endpoint: e}
	)

	require.NoError(t, b.worker(nil).Work(t.Context(), tg.job()))
	require.Len(t, r.got(), 1)

	d := b.state(t, tg)
	require.Equal(t, messages.StatusFailed, d.Status)
	require.Equal(t, "the endpoint answered 410 Gone", d.Reason)

	attempts := b.attempts(t, tg)
	require.Len(t, attempts, 1)
	require.Equal(t, http.StatusGone, attempts[0].StatusCode)
	require.True(t, attempts[0].NextAttemptAt.IsZero())

	// The endpoint is disabled and its other pending delivery given up.
	got, err := b.store.GetEndpoint(t.Context(), tenantID, e.ID)
	require.NoError(t, err)
	require.True(t, got.Disabled)
	require.Equal(t, "the endpoint answered 410 Gone", got.DisabledReason)

	pending := b.state(t, target{message: second, endpoint: e})
	require.Equal(t, messages.StatusFailed, pending.Status)
	require.Equal(t, "endpoint disabled: the endpoint answered 410 Gone", pending.Reason)

	// Another endpoint is not touched.
	for _, m := range []messages.Message{first, second} {
		require.Equal(t, messages.StatusPending, b.state(t, target{message: m, endpoint: elsewise}).Status)
	}

	require.Contains(t, b.logs.String(), `"level":"WARN","msg":"endpoint disabled"`)

	// The job of the other delivery sends nothing.
	require.NoError(t, b.worker(nil).Work(t.Context(), target{message: second, endpoint: e}.job()))
	require.Len(t, r.got(), 1)
}

func TestWorkRetryAfter(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name       string
		status     int
		retryAfter string
		want       time.Duration
	}{
		{name: "429 in seconds", status: 429, retryAfter: "3", want: 3 * time.Second},
		{name: "503 in seconds", status: 503, retryAfter: "3", want: 3 * time.Second},
		{name: "429 of zero takes the minimum", status: 429, retryAfter: "0", want: time.Second},
		{name: "429 without a header follows the schedule", status: 429, want: 10 * time.Second},
		{name: "429 of garbage follows the schedule", status: 429, retryAfter: "soon", want: 10 * time.Second},
		{name: "500 ignores the header", status: 500, retryAfter: "3", want: 10 * time.Second},
		{name: "longer than the schedule", status: 429, retryAfter: "3600", want: time.Hour},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			b := setup(t)
			r := newReceiver(t, func(w http.ResponseWriter, _ *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}

				w.WriteHeader(tt.status)
			})
			tg := b.deliverTo(t, r)

			requireSnooze(t, b.worker(nil).Work(t.Context(), tg.job()), tt.want, time.Second)

			a := b.attempts(t, tg)[0]
			require.Equal(t, a.StartedAt.Add(a.Duration+tt.want), a.NextAttemptAt)
			require.Equal(t, messages.StatusPending, b.state(t, tg).Status)
		})
	}
}

func TestWorkRetryAfterWhenExhausted(t *testing.T) {
	t.Parallel()

	b := setup(t)
	r := newReceiver(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "3")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	tg := b.deliverTo(t, r)

	// With no retry left, a Retry-After does not keep the delivery alive.
	w := b.worker(func(cfg *delivery.Config) { cfg.Schedule = retry.Schedule{0} })
	requireSnooze(t, w.Work(t.Context(), tg.job()), 3*time.Second, time.Second)
	require.NoError(t, w.Work(t.Context(), tg.job()))
	require.Equal(t, messages.StatusFailed, b.state(t, tg).Status)
}

func TestWorkDisabledEndpoint(t *testing.T) {
	t.Parallel()

	b := setup(t)
	r := newReceiver(t, nil)
	tg := b.deliverTo(t, r)

	_, err := b.store.UpdateEndpoint(t.Context(), tenantID, tg.endpoint.ID, func(e *subscriptions.Endpoint) error {
		e.Disabled, e.DisabledReason = true, "paused by ops"
		return nil
	})
	require.NoError(t, err)

	require.NoError(t, b.worker(nil).Work(t.Context(), tg.job()))
	require.Empty(t, r.got())
	require.Empty(t, b.attempts(t, tg))

	d := b.state(t, tg)
	require.Equal(t, messages.StatusFailed, d.Status)
	require.Equal(t, "endpoint disabled: paused by ops", d.Reason)
	require.Zero(t, d.Attempts)
}

func TestWorkGoneDelivery(t *testing.T) {
	t.Parallel()

	b := setup(t)
	r := newReceiver(t, nil)

	t.Run("endpoint deleted", func(t *testing.T) {
		t.Parallel()

		tg := b.deliverTo(t, r)
		require.NoError(t, b.store.DeleteEndpoint(t.Context(), tenantID, tg.endpoint.ID))
		require.NoError(t, b.worker(nil).Work(t.Context(), tg.job()))
	})

	t.Run("message deleted", func(t *testing.T) {
		t.Parallel()

		tg := b.deliverTo(t, r)
		_, err := b.db.Pool.Exec(t.Context(), "DELETE FROM messages WHERE id = $1", tg.message.ID)
		require.NoError(t, err)
		require.NoError(t, b.worker(nil).Work(t.Context(), tg.job()))
	})

	t.Run("never existed", func(t *testing.T) {
		t.Parallel()

		job := &river.Job[delivery.Args]{Args: delivery.Args{
			MessageID: "msg_01jbq6q6ffe5x9qf2a8n1c3m4z", EndpointID: "ep_01jbq6q6ffe5x9qf2a8n1c3m4z",
		}}
		require.NoError(t, b.worker(nil).Work(t.Context(), job))
	})

	t.Cleanup(func() { require.Empty(t, r.got()) })
}

func TestWorkDeliveryOver(t *testing.T) {
	t.Parallel()

	b := setup(t)
	r := newReceiver(t, nil)
	w := b.worker(nil)

	t.Run("succeeded", func(t *testing.T) {
		t.Parallel()

		tg := b.deliverTo(t, r)
		require.NoError(t, w.Work(t.Context(), tg.job()))
		require.Equal(t, messages.StatusSucceeded, b.state(t, tg).Status)

		// River may run a job twice; the second run sends nothing.
		require.NoError(t, w.Work(t.Context(), tg.job()))
		require.Len(t, b.attempts(t, tg), 1)
	})

	t.Run("failed", func(t *testing.T) {
		t.Parallel()

		tg := b.deliverTo(t, r)
		require.NoError(t, b.store.FailDelivery(t.Context(), messages.Failure{
			MessageID: tg.message.ID, EndpointID: tg.endpoint.ID, Reason: "given up",
		}))
		require.NoError(t, w.Work(t.Context(), tg.job()))
		require.Empty(t, b.attempts(t, tg))
	})

	t.Cleanup(func() { require.Len(t, r.got(), 1) })
}

func TestWorkDue(t *testing.T) {
	t.Parallel()

	b := setup(t)
	r := newReceiver(t, nil)
	tg := b.deliverTo(t, r)
	w := b.worker(nil)

	// A job queued ahead of its attempt waits until it is due.
	job := tg.job()
	job.Args.Due = time.Now().Add(3 * time.Second)
	requireSnooze(t, w.Work(t.Context(), job), 3*time.Second, time.Second)
	require.Empty(t, r.got())

	// Once due, it sends.
	job.Args.Due = time.Now().Add(-time.Millisecond)
	require.NoError(t, w.Work(t.Context(), job))
	require.Len(t, r.got(), 1)
}

func TestWorkBreakerOpen(t *testing.T) {
	t.Parallel()

	b := setup(t)
	r := newReceiver(t, nil)
	tg := b.deliverTo(t, r)

	breakers := breaker.NewRegistry(breaker.Settings{Failures: 1, Cooldown: time.Minute})
	release, _, err := breakers.Acquire(t.Context(), tg.endpoint.ID)
	require.NoError(t, err)
	release(false)
	require.Equal(t, "open", breakers.State(tg.endpoint.ID))

	w := b.worker(func(cfg *delivery.Config) { cfg.Breakers = breakers })

	requireSnooze(t, w.Work(t.Context(), tg.job()), time.Minute, time.Minute-100*time.Millisecond)
	require.Empty(t, r.got())
	require.Empty(t, b.attempts(t, tg))

	d := b.state(t, tg)
	require.Equal(t, messages.StatusPending, d.Status)
	require.Zero(t, d.Attempts)

	// The job waits before it reads the database: even one whose delivery
	// is gone waits, where a load would have ended it.
	gone := target{endpoint: tg.endpoint}
	gone.message.ID = "msg_01jbq6q6ffe5x9qf2a8n1c3m4z"
	requireSnooze(t, w.Work(t.Context(), gone.job()), time.Minute, time.Minute-100*time.Millisecond)
}

func TestWorkOpensBreaker(t *testing.T) {
	t.Parallel()

	b := setup(t)
	r := newReceiver(t, answering(503, ""))
	breakers := breaker.NewRegistry(breaker.Settings{Failures: 2, Cooldown: time.Minute})
	w := b.worker(func(cfg *delivery.Config) { cfg.Breakers = breakers })

	e := b.endpoint(t, r.URL, subscriptions.EndpointParams{})
	jobs := make([]*river.Job[delivery.Args], 3)

	for i := range jobs {
		jobs[i] = target{message: b.publish(t, `{}`), endpoint: e}.job()
	}

	// Two failures open the breaker; the third job waits without a try.
	for _, job := range jobs[:2] {
		requireSnooze(t, w.Work(t.Context(), job), 10*time.Second, time.Second)
	}

	require.Equal(t, "open", breakers.State(e.ID))
	requireSnooze(t, w.Work(t.Context(), jobs[2]), time.Minute, time.Minute-100*time.Millisecond)
	require.Len(t, r.got(), 2)

	// 4xx answers are the receiver speaking: they keep the breaker closed.
	r4 := newReceiver(t, answering(400, ""))
	e4 := b.endpoint(t, r4.URL, subscriptions.EndpointParams{})

	for range 3 {
		job := target{message: b.publish(t, `{}`), endpoint: e4}.job()
		requireSnooze(t, w.Work(t.Context(), job), 10*time.Second, time.Second)
	}

	require.Equal(t, "closed", breakers.State(e4.ID))
}

func TestWorkStopping(t *testing.T) {
	t.Parallel()

	b := setup(t)
	arrived := make(chan struct{})
	r := newReceiver(t, func(w http.ResponseWriter, req *http.Request) {
		close(arrived)

		select {
		case <-req.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	tg := b.deliverTo(t, r)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	go func() {
		select {
		case <-arrived:
		case <-time.After(10 * time.Second):
		}

		cancel()
	}()

	// Herald stopping says nothing of the endpoint: the job comes back at
	// once and no attempt is spent.
	requireSnooze(t, b.worker(nil).Work(ctx, tg.job()), 0, 0)
	require.Len(t, r.got(), 1)
	require.Empty(t, b.attempts(t, tg))
	require.Zero(t, b.state(t, tg).Attempts)
	require.Equal(t, "closed", b.breakers.State(tg.endpoint.ID))
}

func TestWorkDatabaseDown(t *testing.T) {
	t.Parallel()

	b := setup(t)
	r := newReceiver(t, nil)
	tg := b.deliverTo(t, r)

	b.db.Pool.Close()

	err := b.worker(nil).Work(t.Context(), tg.job())
	require.Error(t, err)

	_, snoozed := errors.AsType[*river.JobSnoozeError](err)
	require.False(t, snoozed, "a fault of Herald's own is a plain error, for River to retry")
	require.Empty(t, r.got())
}

// flakyStore is the real store, whose RecordGone fails as many times
// as failures says, as when the database drops a connection.
type flakyStore struct {
	*postgres.Store

	failures atomic.Int32
}

func (s *flakyStore) RecordGone(ctx context.Context, a messages.Attempt, reason string) error {
	if s.failures.Add(-1) >= 0 {
		return errors.New("record gone: connection reset")
	}

	return s.Store.RecordGone(ctx, a, reason) //nolint:wrapcheck // the real store's error
}

// TestWorkGoneRetried checks that a 410 Gone still disables its endpoint
// when the first try to disable it fails: River runs the job again, and
// that run must finish what the first began.
func TestWorkGoneRetried(t *testing.T) {
	t.Parallel()

	b := setup(t)
	r := newReceiver(t, answering(http.StatusGone, ""))
	store := &flakyStore{Store: b.store}
	store.failures.Store(1)

	var (
		e      = b.endpoint(t, r.URL, subscriptions.EndpointParams{})
		first  = target{message: b.publish(t, `{"n":1}`), endpoint: e}
		second = target{message: b.publish(t, `{"n":2}`), endpoint: e}
		w      = b.worker(func(cfg *delivery.Config) { cfg.Store = store })
	)

	err := w.Work(t.Context(), first.job())
	require.Error(t, err)

	_, snoozed := errors.AsType[*river.JobSnoozeError](err)
	require.False(t, snoozed, "a fault of Herald's own is a plain error, for River to retry")

	// River's retry of the job.
	require.NoError(t, w.Work(t.Context(), first.job()))

	got, err := b.store.GetEndpoint(t.Context(), tenantID, e.ID)
	require.NoError(t, err)
	require.True(t, got.Disabled, "the endpoint that answered 410 Gone is still enabled")
	require.Equal(t, messages.StatusFailed, b.state(t, second).Status)
}

// resend replays the delivery of tg and returns the job of its new round.
func (b *testBundle) resend(t *testing.T, tg target) *river.Job[delivery.Args] {
	t.Helper()

	r, err := messages.NewResend(tenantID, tg.message.ID, tg.endpoint.ID, "key:test")
	require.NoError(t, err)

	d, err := b.store.WithEnqueue(noop).Resend(t.Context(), r)
	require.NoError(t, err)

	job := tg.job()
	job.Args.Round = d.Round

	return job
}

// noop queues nothing.
var noop = storetest.EnqueueFunc[pgx.Tx](func(context.Context, pgx.Tx, []messages.Ref) error { return nil })

func TestWorkReplayed(t *testing.T) {
	t.Parallel()

	b := setup(t)
	r := newReceiver(t, answering(500, "down"))
	tg := b.deliverTo(t, r)
	w := b.worker(func(cfg *delivery.Config) { cfg.Schedule = retry.Schedule{time.Second} })

	requireSnooze(t, w.Work(t.Context(), tg.job()), time.Second, time.Second)
	require.NoError(t, w.Work(t.Context(), tg.job()))
	require.Equal(t, messages.StatusFailed, b.state(t, tg).Status)

	replayed := b.resend(t, tg)
	require.Equal(t, 1, replayed.Args.Round)

	// The job of the first round is over: it sends nothing, even though
	// the delivery is pending again.
	require.NoError(t, w.Work(t.Context(), tg.job()))
	require.Len(t, r.got(), 2)

	// The new round follows the schedule from its start: its first failure
	// waits the schedule's first step instead of giving up.
	requireSnooze(t, w.Work(t.Context(), replayed), time.Second, time.Second)
	require.NoError(t, w.Work(t.Context(), replayed))

	d := b.state(t, tg)
	require.Equal(t, messages.StatusFailed, d.Status)
	require.Equal(t, "gave up after 2 attempts", d.Reason)
	require.Equal(t, 4, d.Attempts, "attempt numbers go on across rounds")

	// Every try of both rounds carries the same webhook id.
	got := r.got()
	require.Len(t, got, 4)

	for _, req := range got {
		require.Equal(t, tg.message.ID, req.header.Get("Webhook-Id"))
	}
}

// TestWorkGivesUpOnItsLastRun checks that a delivery Herald cannot send for
// a fault of its own, here an endpoint row it cannot read, is given up on
// record when River runs its job for the last time, instead of staying
// pending once River discards the job.
func TestWorkGivesUpOnItsLastRun(t *testing.T) {
	t.Parallel()

	b := setup(t)
	r := newReceiver(t, nil)
	tg := b.deliverTo(t, r)

	_, err := b.db.Pool.Exec(t.Context(), "UPDATE endpoints SET secret = 'whsec_!' WHERE id = $1", tg.endpoint.ID)
	require.NoError(t, err)

	w := b.worker(nil)
	job := tg.job()

	for job.Attempt < job.MaxAttempts {
		require.Error(t, w.Work(t.Context(), job))
		require.Equal(t, messages.StatusPending, b.state(t, tg).Status, "run %d", job.Attempt)
		job.Attempt++
	}

	require.Error(t, w.Work(t.Context(), job), "River still sees the fault")

	d := b.state(t, tg)
	require.Equal(t, messages.StatusFailed, d.Status)
	require.Equal(t, "gave up after 25 faults of Herald's own; its log says why", d.Reason)
	require.Empty(t, r.got())
	require.Contains(t, b.logs.String(), `"level":"ERROR","msg":"delivery given up after faults of Herald's own"`)
	require.NotContains(t, b.logs.String(), "whsec_")
}

// TestRecordBatchFallsBack records a batch with an attempt whose delivery
// was deleted meanwhile: the batch's transaction fails, and each record is
// then stored alone, so that only that one fails.
func TestRecordBatchFallsBack(t *testing.T) {
	t.Parallel()

	var (
		b       = setup(t)
		r       = newReceiver(t, nil)
		kept    = b.deliverTo(t, r)
		deleted = target{message: b.publish(t, `{"invoice_id":"inv_2"}`), endpoint: kept.endpoint}
		now     = time.Now().UTC().Truncate(time.Microsecond)
	)

	_, err := b.db.Pool.Exec(t.Context(), "DELETE FROM messages WHERE id = $1", deleted.message.ID)
	require.NoError(t, err)

	record := func(tg target) messages.Record {
		id, err := messages.NewAttemptID(now)
		require.NoError(t, err)

		return messages.Record{
			Attempt: messages.Attempt{
				ID: id, MessageID: tg.message.ID, EndpointID: tg.endpoint.ID, Number: 1,
				StartedAt: now, StatusCode: http.StatusNoContent, Succeeded: true,
			},
			Status: messages.StatusSucceeded,
		}
	}

	errs := b.worker(nil).RecordBatch(t.Context(), []messages.Record{record(kept), record(deleted)})
	require.Len(t, errs, 2)
	require.NoError(t, errs[0])
	require.ErrorIs(t, errs[1], messages.ErrNotFound)

	require.Equal(t, messages.StatusSucceeded, b.state(t, kept).Status)
	require.Len(t, b.attempts(t, kept), 1)
}

// TestWorkRerunWaitsForNextAttempt runs a job again after a fault of
// Herald's own, when the attempt of its run before was stored after all:
// the next attempt waits for its time instead of going at once.
func TestWorkRerunWaitsForNextAttempt(t *testing.T) {
	t.Parallel()

	b := setup(t)
	r := newReceiver(t, answering(http.StatusInternalServerError, ""))
	tg := b.deliverTo(t, r)
	w := b.worker(nil)

	requireSnooze(t, w.Work(t.Context(), tg.job()), 10*time.Second, time.Second)

	rerun := tg.job()
	rerun.Attempt = 2
	requireSnooze(t, w.Work(t.Context(), rerun), 10*time.Second, time.Second)
	require.Len(t, r.got(), 1, "the rerun sent nothing")
}
