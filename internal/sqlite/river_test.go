package sqlite_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/sqlite"
	"github.com/heraldhq/herald/internal/subscriptions"
	"github.com/heraldhq/herald/internal/worker"
)

// deliveryWorker stands in for the delivery worker, which the insert-only
// client below never runs.
type deliveryWorker struct {
	river.WorkerDefaults[delivery.Args]
}

func (deliveryWorker) Work(context.Context, *river.Job[delivery.Args]) error { return nil }

// recoverWorker stands in for the recovery worker, which the insert-only
// client below never runs.
type recoverWorker struct {
	river.WorkerDefaults[worker.RecoverArgs]
}

func (recoverWorker) Work(context.Context, *river.Job[worker.RecoverArgs]) error { return nil }

// riverStore returns a store on b's database that queues delivery and
// recovery jobs with an insert-only River client on riversqlite, as Herald
// does.
func riverStore(t *testing.T, b *testBundle) *sqlite.Store {
	t.Helper()

	workers := river.NewWorkers()
	river.AddWorker(workers, deliveryWorker{})
	river.AddWorker(workers, recoverWorker{})

	client, err := river.NewClient(riversqlite.New(b.db), &river.Config{Workers: workers})
	require.NoError(t, err)

	return sqlite.New(b.db).WithEnqueue(worker.NewEnqueuer(client))
}

// jobs returns the args of the queued delivery jobs, in order of id.
// River keeps them as JSONB, which json() turns into text.
func (b *testBundle) jobs(t *testing.T) []delivery.Args {
	t.Helper()

	rows, err := b.db.QueryContext(t.Context(),
		"SELECT json(args) FROM river_job WHERE kind = ? AND queue = ? ORDER BY id",
		delivery.Args{}.Kind(), delivery.Queue)
	require.NoError(t, err)

	defer rows.Close()

	out := []delivery.Args{}

	for rows.Next() {
		var (
			raw  string
			args delivery.Args
		)

		require.NoError(t, rows.Scan(&raw))
		require.NoError(t, json.Unmarshal([]byte(raw), &args))

		out = append(out, args)
	}

	require.NoError(t, rows.Err())

	return out
}

// TestPublishQueuesRiverJobs publishes through a real River client: its
// jobs are inserted in the publishing transaction, on the one connection.
func TestPublishQueuesRiverJobs(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putAcme(t)

	var (
		first  = b.addEndpoint(t)
		second = b.addEndpoint(t)
		s      = riverStore(t, b)
	)

	m := newMessage(t, "invoice.paid", "evt_1", `{}`)

	published, err := s.PublishMessage(t.Context(), m)
	require.NoError(t, err)
	require.Equal(t, 2, published.Endpoints)

	require.ElementsMatch(t, []delivery.Args{
		{MessageID: m.ID, EndpointID: first.ID},
		{MessageID: m.ID, EndpointID: second.ID},
	}, b.jobs(t))

	// A replay queues nothing more.
	_, err = s.PublishMessage(t.Context(), newMessage(t, "invoice.paid", "evt_1", `{}`))
	require.NoError(t, err)
	require.Len(t, b.jobs(t), 2)

	// A failed publish leaves no job behind.
	_, err = s.PublishMessage(t.Context(), newMessage(t, "invoice.paid", "evt_1", `{"x": 1}`))
	require.Error(t, err)
	require.Len(t, b.jobs(t), 2)
}

// TestReplayQueuesRiverJobs resends and recovers through a real River
// client: each job carries the round it sends, and a recovery keeps the id
// of the River job that works it.
func TestReplayQueuesRiverJobs(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putAcme(t)

	var (
		e   = b.addEndpoint(t)
		s   = riverStore(t, b)
		ctx = t.Context()
		m   = newMessage(t, "invoice.paid", "", `{}`)
	)

	// Made a minute ago, so that a recovery until now holds it.
	m.ID = messages.IDAt("msg", time.Now().Add(-time.Minute))
	_, err := s.PublishMessage(ctx, m)
	require.NoError(t, err)

	resend, err := messages.NewResend(acme, m.ID, e.ID, "key:3f2a9c1d0e4b")
	require.NoError(t, err)
	_, err = s.Resend(ctx, resend)
	require.NoError(t, err)
	f := messages.Failure{MessageID: m.ID, EndpointID: e.ID, Round: 1, Reason: "gave up"}
	require.NoError(t, s.FailDelivery(ctx, f))

	r, err := messages.NewRecovery(acme, e.ID, time.Now().Add(-time.Hour), time.Time{}, "key:3f2a9c1d0e4b")
	require.NoError(t, err)

	r, err = s.CreateRecovery(ctx, r)
	require.NoError(t, err)
	require.Equal(t, 1, r.Total)

	var kind, args string

	err = b.db.QueryRowContext(ctx, "SELECT kind, json(args) FROM river_job WHERE id = ?", r.JobID).Scan(&kind, &args)
	require.NoError(t, err)
	require.Equal(t, worker.RecoverArgs{}.Kind(), kind)
	require.JSONEq(t, fmt.Sprintf(`{"recovery_id": %q}`, r.ID), args)

	r, err = s.RecoverNext(ctx, r.ID, 10)
	require.NoError(t, err)
	require.Equal(t, messages.RecoveryDone, r.Status)

	require.Equal(t, []delivery.Args{
		{MessageID: m.ID, EndpointID: e.ID},
		{MessageID: m.ID, EndpointID: e.ID, Round: 1},
		{MessageID: m.ID, EndpointID: e.ID, Round: 2},
	}, b.jobs(t))
}

// TestConcurrentUse runs publishes, updates and reads at once on the one
// connection. A query that bypassed its transaction would wait for ever for
// the connection; the deadline turns that into a failure.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putAcme(t)
	e := b.addEndpoint(t)
	s := riverStore(t, b)

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	const workers, rounds = 8, 10

	errs := make(chan error, workers*rounds*3)

	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				m := newMessage(t, "a.b", fmt.Sprintf("evt_%d_%d", w, r), `{}`)
				_, err := s.PublishMessage(ctx, m)
				errs <- err

				_, err = s.UpdateEndpoint(ctx, "acme", e.ID, func(*subscriptions.Endpoint) error { return nil })
				errs <- err

				_, err = s.ListEndpoints(ctx, "acme", "", 10)
				errs <- err
			}
		})
	}

	wg.Wait()
	close(errs)

	for err := range errs {
		require.NoError(t, err)
	}

	require.Len(t, b.jobs(t), workers*rounds)
}

// recordingWorker sends the args of each job it works to done.
type recordingWorker struct {
	river.WorkerDefaults[delivery.Args]

	done chan<- delivery.Args
}

func (w recordingWorker) Work(_ context.Context, job *river.Job[delivery.Args]) error {
	w.done <- job.Args
	return nil
}

// TestRiverWorksJobs runs a working River client on the database Open
// made, one connection and BEGIN IMMEDIATE, and has it work a published
// message's job.
func TestRiverWorksJobs(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putAcme(t)
	e := b.addEndpoint(t)

	done := make(chan delivery.Args, 1)
	workers := river.NewWorkers()
	river.AddWorker(workers, recordingWorker{done: done})

	client, err := river.NewClient(riversqlite.New(b.db), &river.Config{
		Queues:            map[string]river.QueueConfig{delivery.Queue: {MaxWorkers: 2}},
		FetchPollInterval: 100 * time.Millisecond,
		Workers:           workers,
		Logger:            slog.New(slog.DiscardHandler),
	})
	require.NoError(t, err)
	require.NoError(t, client.Start(t.Context()))
	t.Cleanup(func() { require.NoError(t, client.Stop(context.WithoutCancel(t.Context()))) })

	s := sqlite.New(b.db).WithEnqueue(worker.NewEnqueuer(client))

	m := newMessage(t, "a.b", "", `{}`)
	_, err = s.PublishMessage(t.Context(), m)
	require.NoError(t, err)

	select {
	case args := <-done:
		require.Equal(t, delivery.Args{MessageID: m.ID, EndpointID: e.ID}, args)
	case <-time.After(10 * time.Second):
		require.FailNow(t, "the job was not worked")
	}
}
