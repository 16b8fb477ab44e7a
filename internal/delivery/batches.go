package delivery

// The jobs that run at once share their database work: their targets are
// loaded together, and their attempts recorded together, a few statements
// for many deliveries. Each job waits for the batch that holds its own.

import (
	"context"

	"github.com/heraldhq/herald/internal/messages"
)

// loaded is the outcome of loading one target.
type loaded struct {
	target messages.Target
	err    error
}

// Batches of the database work of deliveries: the jobs that run at once
// load their targets and record their attempts together, a few
// statements for many deliveries.
const (
	maxBatch         = 100
	batchConcurrency = 1
)

// loadBatch reads the targets of keys in one query.
func (w *Worker) loadBatch(ctx context.Context, keys []messages.DeliveryKey) []loaded {
	out := make([]loaded, len(keys))

	targets, err := w.cfg.Store.LoadTargets(ctx, keys)
	for i, k := range keys {
		t, ok := targets[k]

		switch {
		case err != nil:
			out[i].err = err
		case !ok:
			out[i].err = messages.ErrNotFound
		default:
			out[i].target = t
		}
	}

	return out
}

// recordBatch stores records in one transaction. When it fails, each is
// stored alone, so that one that cannot be (its delivery was deleted
// meanwhile) does not fail the others.
func (w *Worker) recordBatch(ctx context.Context, records []messages.Record) []error {
	errs := make([]error, len(records))

	err := w.cfg.Store.RecordAttempts(ctx, records, nil)
	if err == nil || len(records) == 1 {
		for i := range errs {
			errs[i] = err
		}

		return errs
	}

	for i, r := range records {
		errs[i] = w.cfg.Store.RecordAttempts(ctx, []messages.Record{r}, nil)
	}

	return errs
}

// load reads the target of one delivery, with those of the other jobs
// running.
func (w *Worker) load(ctx context.Context, messageID, endpointID string) (messages.Target, error) {
	res, err := w.loads.Do(ctx, messages.DeliveryKey{MessageID: messageID, EndpointID: endpointID})
	if err != nil {
		return messages.Target{}, err //nolint:wrapcheck // the job's own context error
	}

	return res.target, res.err
}

// recordAttempt stores a and the state of its delivery, with the records
// of the other jobs running.
func (w *Worker) recordAttempt(
	ctx context.Context, a messages.Attempt, status messages.Status, reason string,
) error {
	res, err := w.records.Do(ctx, messages.Record{Attempt: a, Status: status, Reason: reason})
	if err != nil {
		return err //nolint:wrapcheck // the job's own context error
	}

	return res
}
