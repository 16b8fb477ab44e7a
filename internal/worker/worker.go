// Package worker runs Herald's background jobs on River: the queue, its
// workers and the periodic jobs.
package worker

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

// pruneInterval is how often expired previous secrets are removed.
const pruneInterval = time.Hour

// Store is what the jobs need of the database.
type Store interface {
	PruneExpiredSecrets(ctx context.Context, t time.Time) (int64, error)
}

// Config configures [New].
type Config struct {
	// Pool is the database River runs on. Required.
	Pool *pgxpool.Pool

	// Store is what the jobs read and write. Required.
	Store Store

	// Logger receives the jobs' logs. Required.
	Logger *slog.Logger

	// RiverLogger receives River's own logs. Defaults to Logger.
	RiverLogger *slog.Logger

	// PruneInterval is how often expired previous secrets are removed.
	// Defaults to one hour.
	PruneInterval time.Duration
}

// New returns a River client that works Herald's jobs once started.
func New(cfg Config) (*river.Client[pgx.Tx], error) {
	interval := cfg.PruneInterval
	if interval <= 0 {
		interval = pruneInterval
	}

	riverLogger := cfg.RiverLogger
	if riverLogger == nil {
		riverLogger = cfg.Logger
	}

	workers := river.NewWorkers()
	river.AddWorker(workers, &pruneSecretsWorker{store: cfg.Store, logger: cfg.Logger})

	client, err := river.NewClient(riverpgxv5.New(cfg.Pool), &river.Config{
		Logger:  riverLogger,
		Queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 10}},
		Workers: workers,
		PeriodicJobs: []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(interval),
				func() (river.JobArgs, *river.InsertOpts) { return PruneSecretsArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true}),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("new river client: %w", err)
	}

	return client, nil
}

// PruneSecretsArgs asks for the previous signing secrets that have expired
// to be removed from the database, so that no key outlives its use.
type PruneSecretsArgs struct{}

// Kind names the job in River.
func (PruneSecretsArgs) Kind() string { return "prune_secrets" }

// InsertOpts keeps at most one prune job waiting at a time.
func (PruneSecretsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: pruneInterval}}
}

type pruneSecretsWorker struct {
	river.WorkerDefaults[PruneSecretsArgs]

	store  Store
	logger *slog.Logger
}

func (w *pruneSecretsWorker) Work(ctx context.Context, _ *river.Job[PruneSecretsArgs]) error {
	n, err := w.store.PruneExpiredSecrets(ctx, time.Now())
	if err != nil {
		return err //nolint:wrapcheck // already wrapped by the store
	}

	if n > 0 {
		w.logger.InfoContext(ctx, "expired secrets pruned", slog.Int64("endpoints", n))
	}

	return nil
}
