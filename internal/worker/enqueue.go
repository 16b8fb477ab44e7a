package worker

import (
	"context"
	"errors"
	"fmt"

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

// EnqueueDeliveries queues one delivery job per ref in tx, in one INSERT
// of all of them. River's COPY path (InsertManyFast) costs PostgreSQL
// about twice as much for the few jobs of one publish transaction, and
// takes an extra round trip.
func (e *Enqueuer[TTx]) EnqueueDeliveries(ctx context.Context, tx TTx, refs []messages.Ref) error {
	if e.client == nil {
		return errNoClient
	}

	params := make([]river.InsertManyParams, len(refs))
	for i, ref := range refs {
		params[i] = river.InsertManyParams{Args: delivery.Args{
			MessageID:  ref.MessageID,
			EndpointID: ref.EndpointID,
			Round:      ref.Round,
		}}
	}

	if _, err := e.client.InsertManyTx(ctx, tx, params); err != nil {
		return fmt.Errorf("insert delivery jobs: %w", err)
	}

	return nil
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
