package worker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/riverqueue/river"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/messages"
)

// Enqueuer queues Herald's jobs inside a transaction of the caller's, so
// that a job exists exactly when the rows it works on do. TTx is the
// driver's transaction type.
//
// The jobs themselves queue jobs (a recovery queues deliveries), so the
// store they use needs an Enqueuer before the client exists: make it with
// a nil client, build the store and the client, then call
// [Enqueuer.Use].
type Enqueuer[TTx any] struct {
	client *river.Client[TTx]
}

// errNoClient is returned by an [Enqueuer] used before it has a client.
var errNoClient = errors.New("worker: the enqueuer has no client yet")

// NewEnqueuer returns the Enqueuer that queues through client, which may be
// nil until [Enqueuer.Use] sets it.
func NewEnqueuer[TTx any](client *river.Client[TTx]) *Enqueuer[TTx] {
	return &Enqueuer[TTx]{client: client}
}

// Use makes e queue through client. Call it before e is first used, as it
// is not synchronized with the queueing methods.
func (e *Enqueuer[TTx]) Use(client *river.Client[TTx]) {
	e.client = client
}

// EnqueueDeliveries queues the delivery jobs of refs in tx, in one INSERT
// of all of them: the first attempts due now of several messages to one
// endpoint share a job (up to [maxFirsts] messages each), and every other
// ref, a retry, a replay or a lone message, has a job of its own. River's
// COPY path (InsertManyFast) would cost PostgreSQL about twice as much for
// the few jobs of one transaction, and take an extra round trip.
func (e *Enqueuer[TTx]) EnqueueDeliveries(ctx context.Context, tx TTx, refs []messages.Ref) error {
	if e.client == nil {
		return errNoClient
	}

	if _, err := e.client.InsertManyTx(ctx, tx, deliveryJobs(refs)); err != nil {
		return fmt.Errorf("insert delivery jobs: %w", err)
	}

	return nil
}

// scheduleAhead is how far ahead a job must be due to be queued for later.
// River makes a job queued for later available only when its scheduler
// next runs, every five seconds, which would put off a retry due in five
// seconds by as much again. A job due sooner is queued at once, and waits
// until it is due itself ([delivery.Args] Due).
const scheduleAhead = 5 * time.Second

// scheduledAt returns when River should make a job due at available: zero,
// at once, unless that is more than scheduleAhead away.
func scheduledAt(at time.Time) time.Time {
	if time.Until(at) <= scheduleAhead {
		return time.Time{}
	}

	return at
}

// maxFirsts is the most messages one job of first attempts holds.
const maxFirsts = 100

// deliveryJobs returns the jobs of refs, in the order of their first ref.
func deliveryJobs(refs []messages.Ref) []river.InsertManyParams {
	var (
		params = make([]river.InsertManyParams, 0, len(refs))
		firsts = make(map[string][]string) // message ids by endpoint
		order  []string
	)

	for _, ref := range refs {
		if ref.Round != 0 || !ref.At.IsZero() {
			params = append(params, river.InsertManyParams{
				Args: delivery.Args{
					MessageID: ref.MessageID, EndpointID: ref.EndpointID, Round: ref.Round, Due: ref.At,
				},
				InsertOpts: &river.InsertOpts{ScheduledAt: scheduledAt(ref.At)},
			})

			continue
		}

		if _, seen := firsts[ref.EndpointID]; !seen {
			order = append(order, ref.EndpointID)
		}

		firsts[ref.EndpointID] = append(firsts[ref.EndpointID], ref.MessageID)
	}

	for _, endpointID := range order {
		for chunk := range slices.Chunk(firsts[endpointID], maxFirsts) {
			if len(chunk) == 1 {
				params = append(params, river.InsertManyParams{
					Args: delivery.Args{MessageID: chunk[0], EndpointID: endpointID},
				})

				continue
			}

			params = append(params, river.InsertManyParams{
				Args: delivery.FirstsArgs{EndpointID: endpointID, MessageIDs: chunk},
			})
		}
	}

	return params
}

// EnqueueRecovery queues the job of the recovery with id in tx, and returns
// the job's id.
func (e *Enqueuer[TTx]) EnqueueRecovery(ctx context.Context, tx TTx, id string) (int64, error) {
	if e.client == nil {
		return 0, errNoClient
	}

	res, err := e.client.InsertTx(ctx, tx, RecoverArgs{RecoveryID: id}, nil)
	if err != nil {
		return 0, fmt.Errorf("insert recovery job: %w", err)
	}

	return res.Job.ID, nil
}
