// Package worker runs Herald's background jobs on River: the queues, their
// workers and the periodic jobs.
package worker

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/messages"
)

const (
	// pruneInterval is how often expired previous secrets are removed.
	pruneInterval = time.Hour

	// defaultWorkers is how many deliveries run at once when
	// Config.Workers is zero.
	defaultWorkers = 100

	// fetchCooldown and fetchPollInterval keep a busy queue draining fast
	// and an idle one picking up retries soon after they are due. River's
	// defaults (100ms and 1s) cap a queue at MaxWorkers jobs per 100ms.
	fetchCooldown     = 5 * time.Millisecond
	fetchPollInterval = 50 * time.Millisecond

	// rescueMargin is how long past its time limit a running job must be
	// before River takes it as its worker's death and runs it again.
	rescueMargin = 5 * time.Second
)

// Store is what the jobs need of the database.
type Store interface {
	delivery.Store
	PruneExpiredSecrets(ctx context.Context, t time.Time) (int64, error)
	RecoverNext(ctx context.Context, id string, batch int) (messages.Recovery, error)
}

// Config configures [New].
type Config struct {
	// Store is what the jobs read and write. Required, and it must queue
	// jobs: see [Enqueuer].
	Store Store

	// Delivery configures the delivery worker; its Store and Logger are
	// set from this Config.
	Delivery delivery.Config

	// Workers is how many deliveries run at once. Defaults to 100.
	Workers int

	// InsertOnly makes a client that queues jobs but works none, for
	// processes that only serve the API.
	InsertOnly bool

	// Logger receives the jobs' logs. Required.
	Logger *slog.Logger

	// RiverLogger receives River's own logs. Defaults to Logger.
	RiverLogger *slog.Logger

	// PruneInterval is how often expired previous secrets are removed.
	// Defaults to one hour.
	PruneInterval time.Duration
}

// New returns a River client on driver that queues Herald's jobs and,
// unless InsertOnly, works them once started. TTx is the driver's
// transaction type: pgx.Tx on PostgreSQL, *sql.Tx on SQLite.
func New[TTx any](driver riverdriver.Driver[TTx], cfg Config) (*river.Client[TTx], error) {
	riverCfg := &river.Config{
		Logger:            cfg.RiverLogger,
		Workers:           workers(cfg),
		FetchCooldown:     fetchCooldown,
		FetchPollInterval: fetchPollInterval,
		JobTimeout:        delivery.JobTimeout(cfg.Delivery.Timeout),
		// A job still running this long after it started belongs to a
		// worker that died: River hands it to another.
		RescueStuckJobsAfter: delivery.JobTimeout(cfg.Delivery.Timeout) + rescueMargin,
	}
	if riverCfg.Logger == nil {
		riverCfg.Logger = cfg.Logger
	}

	if !cfg.InsertOnly {
		riverCfg.Queues = map[string]river.QueueConfig{
			river.QueueDefault: {MaxWorkers: 2},
			delivery.Queue:     {MaxWorkers: cmp.Or(cfg.Workers, defaultWorkers)},
		}
		riverCfg.PeriodicJobs = []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(cmp.Or(cfg.PruneInterval, pruneInterval)),
				func() (river.JobArgs, *river.InsertOpts) { return PruneSecretsArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true}),
		}
	}

	client, err := river.NewClient(driver, riverCfg)
	if err != nil {
		return nil, fmt.Errorf("new river client: %w", err)
	}

	return client, nil
}

func workers(cfg Config) *river.Workers {
	deliveryCfg := cfg.Delivery
	deliveryCfg.Store = cfg.Store
	deliveryCfg.Logger = cfg.Logger

	workers := river.NewWorkers()
	river.AddWorker(workers, &pruneSecretsWorker{store: cfg.Store, logger: cfg.Logger})
	deliveries := delivery.NewWorker(deliveryCfg)
	river.AddWorker(workers, deliveries)
	river.AddWorker(workers, deliveries.Firsts())
	river.AddWorker(workers, &recoverWorker{store: cfg.Store, logger: cfg.Logger})

	return workers
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
