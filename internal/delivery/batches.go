package delivery

// The jobs that run at once share their database work: their targets are
// loaded together, and their attempts recorded together, a few statements
// for many deliveries. Each job waits for the batch that holds its own.

import (
	"context"
	"slices"

	"github.com/heraldhq/herald/internal/messages"
)

// loaded is the outcome of loading one target.
type loaded struct {
	target messages.Target
	err    error
}

// The most records or keys in one batch, and how many batches of each run
// at once.
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

// recordBatch stores the records of the jobs running at once.
func (w *Worker) recordBatch(ctx context.Context, records []messages.Record) []error {
	return w.storeRecords(ctx, records, nil)
}

// storeRecords stores records, and queues the jobs of refs, in one
// transaction, and returns each record's error. When that fails, each
// record is stored alone with the refs of its delivery, so that one that
// cannot be (its delivery was deleted meanwhile, or its row is locked)
// does not fail the others.
func (w *Worker) storeRecords(ctx context.Context, records []messages.Record, refs []messages.Ref) []error {
	errs := make([]error, len(records))
	if len(records) == 0 && len(refs) == 0 {
		return errs
	}

	err := w.cfg.Store.RecordAttempts(ctx, records, refs)
	if err == nil || len(records) == 1 {
		for i := range errs {
			errs[i] = err
		}

		return errs
	}

	for i, r := range records {
		key := messages.DeliveryKey{MessageID: r.Attempt.MessageID, EndpointID: r.Attempt.EndpointID}
		own := slices.DeleteFunc(slices.Clone(refs), func(ref messages.Ref) bool {
			return (messages.DeliveryKey{MessageID: ref.MessageID, EndpointID: ref.EndpointID}) != key
		})

		errs[i] = w.cfg.Store.RecordAttempts(ctx, []messages.Record{r}, own)
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
