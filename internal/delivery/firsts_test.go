package delivery_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/breaker"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/store/storetest"
	"github.com/heraldhq/herald/internal/subscriptions"
)

// firsts is a test of the job of first attempts: its messages to one
// endpoint, and the worker, whose store records the jobs it queues.
type firsts struct {
	*testBundle

	endpoint subscriptions.Endpoint
	messages []messages.Message
	queued   *storetest.Recorder
	worker   *delivery.FirstsWorker
}

// setupFirsts publishes n messages, with payloads {"n":1} to {"n":N}, to
// one endpoint at the receiver; change, when set, changes the worker's
// config.
func setupFirsts(t *testing.T, r *receiver, n int, change func(cfg *delivery.Config)) *firsts {
	t.Helper()

	f := &firsts{testBundle: setup(t), queued: storetest.NewRecorder()}
	f.endpoint = f.testBundle.endpoint(t, r.URL+"/hooks", subscriptions.EndpointParams{})

	for i := range n {
		payload, err := json.Marshal(map[string]int{"n": i + 1})
		require.NoError(t, err)

		f.messages = append(f.messages, f.publish(t, string(payload)))
	}

	store := f.store.WithEnqueue(storetest.Enqueuer[pgx.Tx]{Recorder: f.queued})
	f.worker = f.testBundle.worker(func(cfg *delivery.Config) {
		cfg.Store = store
		if change != nil {
			change(cfg)
		}
	}).Firsts()

	return f
}

// job returns the job of first attempts of the messages, in its first run.
func (f *firsts) job() *river.Job[delivery.FirstsArgs] {
	args := delivery.FirstsArgs{EndpointID: f.endpoint.ID}
	for _, m := range f.messages {
		args.MessageIDs = append(args.MessageIDs, m.ID)
	}

	return &river.Job[delivery.FirstsArgs]{
		JobRow: &rivertype.JobRow{Attempt: 1, MaxAttempts: args.InsertOpts().MaxAttempts},
		Args:   args,
	}
}

// target returns the delivery of message i.
func (f *firsts) target(i int) target {
	return target{message: f.messages[i], endpoint: f.endpoint}
}

// refs returns the delivery jobs the worker queued.
func (f *firsts) refs() []messages.Ref {
	var refs []messages.Ref
	for _, call := range f.queued.Calls() {
		refs = append(refs, call.Refs...)
	}

	return refs
}

// byPayload answers each webhook with the status its payload's n picks.
func byPayload(statuses map[int]int) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		var body struct {
			N int `json:"n"`
		}
		if err := json.NewDecoder(req.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}

		w.WriteHeader(statuses[body.N])
	}
}

func TestFirstsArgs(t *testing.T) {
	t.Parallel()

	var args delivery.FirstsArgs
	require.Equal(t, "deliver_firsts", args.Kind())
	require.Equal(t, delivery.Args{}.InsertOpts(), args.InsertOpts())

	b := setup(t)
	w := b.worker(func(cfg *delivery.Config) { cfg.Timeout = time.Second })
	require.Equal(t, delivery.JobTimeout(time.Second), w.Firsts().Timeout(nil))
}

func TestFirstsSucceed(t *testing.T) {
	t.Parallel()

	r := newReceiver(t, nil)
	f := setupFirsts(t, r, 3, nil)

	require.NoError(t, f.worker.Work(t.Context(), f.job()))

	got := r.got()
	require.Len(t, got, 3)

	ids := make([]string, 0, len(got))
	for _, req := range got {
		ids = append(ids, req.header.Get("Webhook-Id"))
		require.NotEmpty(t, req.header.Get("Webhook-Signature"))
	}

	want := []string{f.messages[0].ID, f.messages[1].ID, f.messages[2].ID}
	require.ElementsMatch(t, want, ids)

	for i := range f.messages {
		d := f.state(t, f.target(i))
		require.Equal(t, messages.StatusSucceeded, d.Status, "delivery %d", i)
		require.Equal(t, 1, d.Attempts, "delivery %d", i)
		require.Len(t, f.attempts(t, f.target(i)), 1, "delivery %d", i)
	}

	require.Empty(t, f.refs(), "nothing is left to a job of its own")

	// River may run the job again: it sends nothing more.
	require.NoError(t, f.worker.Work(t.Context(), f.job()))
	require.Len(t, r.got(), 3)
}

// TestFirstsFailures answers one message 500 and another 503 with
// Retry-After: each goes on in a job of its own from its next attempt.
func TestFirstsFailures(t *testing.T) {
	t.Parallel()

	r := newReceiver(t, func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Retry-After", "7")
		byPayload(map[int]int{1: 204, 2: 500, 3: 503})(w, req)
	})
	f := setupFirsts(t, r, 3, nil)

	require.NoError(t, f.worker.Work(t.Context(), f.job()))
	require.Len(t, r.got(), 3)
	require.Equal(t, messages.StatusSucceeded, f.state(t, f.target(0)).Status)

	refs := f.refs()
	require.Len(t, refs, 2)

	for i, wait := range map[int]time.Duration{1: 10 * time.Second, 2: 7 * time.Second} {
		d := f.state(t, f.target(i))
		require.Equal(t, messages.StatusPending, d.Status, "delivery %d", i)
		require.Equal(t, 1, d.Attempts, "delivery %d", i)

		attempts := f.attempts(t, f.target(i))
		require.Len(t, attempts, 1)
		require.WithinDuration(t, attempts[0].StartedAt.Add(wait), d.NextAttemptAt, time.Second)

		j := slices.IndexFunc(refs, func(ref messages.Ref) bool { return ref.MessageID == f.messages[i].ID })
		require.GreaterOrEqual(t, j, 0, "delivery %d has no job", i)
		require.Equal(t, f.endpoint.ID, refs[j].EndpointID)
		require.Zero(t, refs[j].Round)
		require.True(t, d.NextAttemptAt.Equal(refs[j].At), "its job starts at its next attempt")
	}

	// The job that goes on sends the second attempt.
	next := f.target(1).job()
	requireSnooze(t, f.testBundle.worker(nil).Work(t.Context(), next), 20*time.Second, time.Second)
	require.Equal(t, 2, f.state(t, f.target(1)).Attempts)
}

// TestFirstsSkips gives the job deliveries that are over, already tried,
// replayed, deleted or to a disabled endpoint: it sends only the untried
// one.
func TestFirstsSkips(t *testing.T) {
	t.Parallel()

	r := newReceiver(t, nil)
	f := setupFirsts(t, r, 5, nil)

	require.NoError(t, f.store.FailDelivery(t.Context(), messages.Failure{
		MessageID: f.messages[0].ID, EndpointID: f.endpoint.ID, Reason: "given up",
	}))
	f.tried(t, f.target(1))
	f.resend(t, f.target(2))

	_, err := f.db.Pool.Exec(t.Context(), "DELETE FROM messages WHERE id = $1", f.messages[3].ID)
	require.NoError(t, err)

	sent := len(r.got())
	require.NoError(t, f.worker.Work(t.Context(), f.job()))

	got := r.got()[sent:]
	require.Len(t, got, 1)
	require.Equal(t, f.messages[4].ID, got[0].header.Get("Webhook-Id"))
	require.Empty(t, f.refs())

	t.Run("disabled endpoint", func(t *testing.T) {
		t.Parallel()

		r := newReceiver(t, nil)
		f := setupFirsts(t, r, 2, nil)

		_, err := f.store.UpdateEndpoint(t.Context(), tenantID, f.endpoint.ID, func(e *subscriptions.Endpoint) error {
			e.Disabled, e.DisabledReason = true, "paused"
			return nil
		})
		require.NoError(t, err)

		require.NoError(t, f.worker.Work(t.Context(), f.job()))
		require.Empty(t, r.got())

		for i := range f.messages {
			d := f.state(t, f.target(i))
			require.Equal(t, messages.StatusFailed, d.Status)
			require.Equal(t, "endpoint disabled: paused", d.Reason)
		}
	})
}

// tried records a failed first attempt of the delivery, as a job of its
// own would have.
func (b *testBundle) tried(t *testing.T, tg target) {
	t.Helper()

	now := time.Now().UTC().Truncate(time.Microsecond)
	id, err := messages.NewAttemptID(now)
	require.NoError(t, err)

	a := messages.Attempt{
		ID: id, MessageID: tg.message.ID, EndpointID: tg.endpoint.ID, Number: 1, StartedAt: now,
		StatusCode: http.StatusInternalServerError, Error: "the endpoint answered 500",
		NextAttemptAt: now.Add(time.Hour),
	}
	require.NoError(t, b.store.RecordAttempt(t.Context(), a, messages.StatusPending, ""))
}

// TestFirstsHeld runs the job while its endpoint's one slot is taken: the
// job waits as long as the endpoint's guards say, without an attempt, and
// its next run sends what it could not.
func TestFirstsHeld(t *testing.T) {
	t.Parallel()

	r := newReceiver(t, answering(http.StatusInternalServerError, ""))
	breakers := breaker.NewRegistry(breaker.Settings{MaxInFlight: 1, SlotWait: -1, BusyWait: time.Minute})
	f := setupFirsts(t, r, 3, func(cfg *delivery.Config) { cfg.Breakers = breakers })

	release, _, err := breakers.Acquire(t.Context(), f.endpoint.ID)
	require.NoError(t, err)

	requireSnooze(t, f.worker.Work(t.Context(), f.job()), 72*time.Second, 12*time.Second)
	require.Empty(t, r.got())
	require.Empty(t, f.refs())

	for i := range f.messages {
		d := f.state(t, f.target(i))
		require.Equal(t, messages.StatusPending, d.Status)
		require.Zero(t, d.Attempts)
	}

	// With the slot free, each run sends what it can get the slot for,
	// and waits again for the rest, until every message is tried once;
	// each failure goes on in a job of its own.
	release(true)

	runs := 1
	for err := f.worker.Work(t.Context(), f.job()); err != nil; err = f.worker.Work(t.Context(), f.job()) {
		requireSnooze(t, err, 72*time.Second, 12*time.Second)

		runs++
		require.LessOrEqual(t, runs, len(f.messages), "a run sent nothing")
	}

	require.ElementsMatch(t, []string{f.messages[0].ID, f.messages[1].ID, f.messages[2].ID},
		webhookIDs(r.got()))
	require.Len(t, f.refs(), 3)
}

// webhookIDs returns the webhook-id of each request.
func webhookIDs(got []received) []string {
	ids := make([]string, len(got))
	for i, req := range got {
		ids[i] = req.header.Get("Webhook-Id")
	}

	return ids
}

func TestFirstsBreakerOpen(t *testing.T) {
	t.Parallel()

	r := newReceiver(t, nil)
	breakers := breaker.NewRegistry(breaker.Settings{Failures: 1, Cooldown: time.Minute})
	f := setupFirsts(t, r, 2, func(cfg *delivery.Config) { cfg.Breakers = breakers })

	release, _, err := breakers.Acquire(t.Context(), f.endpoint.ID)
	require.NoError(t, err)
	release(false)

	requireSnooze(t, f.worker.Work(t.Context(), f.job()), time.Minute, time.Minute-100*time.Millisecond)
	require.Empty(t, r.got())
	require.Empty(t, f.refs())
}

func TestFirstsGone(t *testing.T) {
	t.Parallel()

	r := newReceiver(t, answering(http.StatusGone, ""))
	f := setupFirsts(t, r, 3, nil)

	require.NoError(t, f.worker.Work(t.Context(), f.job()))
	require.Len(t, r.got(), 3)

	e, err := f.store.GetEndpoint(t.Context(), tenantID, f.endpoint.ID)
	require.NoError(t, err)
	require.True(t, e.Disabled)
	require.Equal(t, "the endpoint answered 410 Gone", e.DisabledReason)

	for i := range f.messages {
		require.Equal(t, messages.StatusFailed, f.state(t, f.target(i)).Status, "delivery %d", i)
		require.Len(t, f.attempts(t, f.target(i)), 1, "delivery %d", i)
	}

	require.Empty(t, f.refs())
}

// TestFirstsDeletedWhileSending deletes a message while its webhook is on
// the way: the attempts of the others are stored all the same.
func TestFirstsDeletedWhileSending(t *testing.T) {
	t.Parallel()

	var f *firsts

	r := newReceiver(t, func(w http.ResponseWriter, req *http.Request) {
		if id := req.Header.Get("Webhook-Id"); id == f.messages[1].ID {
			_, err := f.db.Pool.Exec(req.Context(), "DELETE FROM messages WHERE id = $1", id)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}

			w.WriteHeader(http.StatusServiceUnavailable)

			return
		}

		w.WriteHeader(http.StatusNoContent)
	})
	f = setupFirsts(t, r, 3, nil)

	require.NoError(t, f.worker.Work(t.Context(), f.job()))

	for _, i := range []int{0, 2} {
		require.Equal(t, messages.StatusSucceeded, f.state(t, f.target(i)).Status, "delivery %d", i)
	}

	require.Empty(t, f.refs(), "the deleted delivery goes on in no job")
}

// TestFirstsGivesUpOnItsLastRun makes every run fail for a fault of
// Herald's own, an endpoint row it cannot read: the last run gives the
// deliveries up on record.
func TestFirstsGivesUpOnItsLastRun(t *testing.T) {
	t.Parallel()

	r := newReceiver(t, nil)
	f := setupFirsts(t, r, 2, nil)

	_, err := f.db.Pool.Exec(t.Context(), "UPDATE endpoints SET secret = 'whsec_!' WHERE id = $1", f.endpoint.ID)
	require.NoError(t, err)

	job := f.job()
	for job.Attempt < job.MaxAttempts {
		require.Error(t, f.worker.Work(t.Context(), job))
		require.Equal(t, messages.StatusPending, f.state(t, f.target(0)).Status, "run %d", job.Attempt)
		job.Attempt++
	}

	require.Error(t, f.worker.Work(t.Context(), job))

	for i := range f.messages {
		d := f.state(t, f.target(i))
		require.Equal(t, messages.StatusFailed, d.Status)
		require.Equal(t, "gave up after 25 faults of Herald's own; its log says why", d.Reason)
	}

	require.Empty(t, r.got())
	require.NotContains(t, f.logs.String(), "whsec_")
}

// TestFirstsLastRunGivesUpOnlyItsOwn fails every run of a job one of whose
// deliveries has gone on in a job of its own (tried once) and another
// replayed: the last run gives up only the untried one.
func TestFirstsLastRunGivesUpOnlyItsOwn(t *testing.T) {
	t.Parallel()

	r := newReceiver(t, nil)
	f := setupFirsts(t, r, 3, nil)

	f.tried(t, f.target(0))
	f.resend(t, f.target(1))

	_, err := f.db.Pool.Exec(t.Context(), "UPDATE endpoints SET secret = 'whsec_!' WHERE id = $1", f.endpoint.ID)
	require.NoError(t, err)

	job := f.job()
	job.Attempt = job.MaxAttempts
	require.Error(t, f.worker.Work(t.Context(), job))

	require.Equal(t, messages.StatusPending, f.state(t, f.target(0)).Status, "its own job retries it")
	require.Equal(t, messages.StatusPending, f.state(t, f.target(1)).Status, "its replay sends it")
	require.Equal(t, messages.StatusFailed, f.state(t, f.target(2)).Status)
}
