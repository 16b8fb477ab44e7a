package worker

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/heraldhq/herald/internal/messages"
)

const (
	// recoverBatch is how many deliveries one transaction of a recovery
	// queues.
	recoverBatch = 500

	// recoverSlice is how long a recovery job works before it hands its
	// slot back and snoozes, so that it never looks stuck to River's
	// rescuer, whatever the size of its window.
	recoverSlice = 10 * time.Second
)

// RecoverArgs is the job of the recovery RecoveryID: it queues the
// recovery's deliveries batch by batch, and resumes where it stopped when
// it is cut short.
type RecoverArgs struct {
	RecoveryID string `json:"recovery_id"`
}

// Kind names the job in River.
func (RecoverArgs) Kind() string { return "recover" }

type recoverWorker struct {
	river.WorkerDefaults[RecoverArgs]

	store  Store
	logger *slog.Logger
}

func (w *recoverWorker) Work(ctx context.Context, job *river.Job[RecoverArgs]) error {
	deadline := time.Now().Add(recoverSlice)

	for time.Now().Before(deadline) {
		r, err := w.store.RecoverNext(ctx, job.Args.RecoveryID, recoverBatch)
		if errors.Is(err, messages.ErrRecoveryNotFound) {
			return nil // its endpoint or tenant was deleted
		}

		if err != nil {
			return err //nolint:wrapcheck // already wrapped by the store
		}

		if r.Status != messages.RecoveryRunning {
			w.logger.InfoContext(ctx, "recovery finished",
				slog.String("tenant_id", r.TenantID),
				slog.String("endpoint_id", r.EndpointID),
				slog.String("recovery_id", r.ID),
				slog.String("status", string(r.Status)),
				slog.Int("queued", r.Queued))

			return nil
		}
	}

	return river.JobSnooze(0)
}
