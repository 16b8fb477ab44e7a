package delivery

import (
	"context"

	"github.com/heraldhq/herald/internal/messages"
)

// RecordBatch stores records as one batch of the worker's would.
func (w *Worker) RecordBatch(ctx context.Context, records []messages.Record) []error {
	return w.recordBatch(ctx, records)
}
