package worker_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/postgres"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/internal/worker"
)

// TestEnqueueDeliveries queues first attempts of several messages to one
// endpoint, a lone message, a replay, retries due later and soon, and more
// first attempts to one endpoint than one job holds, and reads back the
// jobs.
func TestEnqueueDeliveries(t *testing.T) {
	t.Parallel()

	db := testdb.New(t)
	enqueuer := worker.NewEnqueuer[pgx.Tx](nil)

	client, err := worker.New(riverpgxv5.New(db.Pool), worker.Config{
		Store:      postgres.New(db.Pool).WithEnqueue(enqueuer),
		InsertOnly: true,
		Logger:     slog.New(slog.DiscardHandler),
	})
	require.NoError(t, err)
	enqueuer.Use(client)

	var (
		later = time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
		soon  = time.Now().Add(2 * time.Second).UTC().Truncate(time.Microsecond)
	)

	refs := make([]messages.Ref, 0, 157)
	refs = append(refs, []messages.Ref{
		{MessageID: "m1", EndpointID: "A"},
		{MessageID: "m1", EndpointID: "B"},
		{MessageID: "m2", EndpointID: "A"},
		{MessageID: "m3", EndpointID: "A", Round: 1},
		{MessageID: "m4", EndpointID: "A", At: later},
		{MessageID: "m5", EndpointID: "A"},
		{MessageID: "m6", EndpointID: "A", At: soon},
	}...)

	many := make([]string, 0, 150)
	for i := range 150 {
		id := fmt.Sprintf("c%03d", i)
		many = append(many, id)
		refs = append(refs, messages.Ref{MessageID: id, EndpointID: "C"})
	}

	tx, err := db.Pool.Begin(t.Context())
	require.NoError(t, err)
	require.NoError(t, enqueuer.EnqueueDeliveries(t.Context(), tx, refs))
	require.NoError(t, tx.Commit(t.Context()))

	res, err := client.JobList(t.Context(), river.NewJobListParams().First(100))
	require.NoError(t, err)

	type job struct {
		kind string
		args string
		at   bool // scheduled later
	}

	// normal returns JSON as encoding/json writes it, whoever wrote it.
	normal := func(b []byte) string {
		var v any
		require.NoError(t, json.Unmarshal(b, &v))

		out, err := json.Marshal(v)
		require.NoError(t, err)

		return string(out)
	}

	argsOf := func(v any) string {
		b, err := json.Marshal(v)
		require.NoError(t, err)

		return normal(b)
	}

	got := make([]job, 0, len(res.Jobs))
	for _, j := range res.Jobs {
		require.Equal(t, delivery.Queue, j.Queue)
		got = append(got, job{
			kind: j.Kind, args: normal(j.EncodedArgs), at: j.ScheduledAt.After(time.Now().Add(time.Minute)),
		})
	}

	require.ElementsMatch(t, []job{
		{kind: "deliver", args: argsOf(delivery.Args{MessageID: "m3", EndpointID: "A", Round: 1})},
		{kind: "deliver", args: argsOf(delivery.Args{MessageID: "m4", EndpointID: "A", Due: later}), at: true},
		// Due too soon for River's scheduler: queued at once, to wait itself.
		{kind: "deliver", args: argsOf(delivery.Args{MessageID: "m6", EndpointID: "A", Due: soon})},
		{
			kind: "deliver_firsts",
			args: argsOf(delivery.FirstsArgs{EndpointID: "A", MessageIDs: []string{"m1", "m2", "m5"}}),
		},
		{kind: "deliver", args: argsOf(delivery.Args{MessageID: "m1", EndpointID: "B"})},
		{kind: "deliver_firsts", args: argsOf(delivery.FirstsArgs{EndpointID: "C", MessageIDs: many[:100]})},
		{kind: "deliver_firsts", args: argsOf(delivery.FirstsArgs{EndpointID: "C", MessageIDs: many[100:]})},
	}, got)
}
