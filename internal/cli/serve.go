package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/breaker"
	"github.com/heraldhq/herald/internal/console"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/egress"
	"github.com/heraldhq/herald/internal/server"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/version"
	"github.com/heraldhq/herald/internal/worker"
)

func (e env) serveCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the API and the worker in one process",
		Long: "Run the API and the worker in one process. When HERALD_API_KEY is unset and\n" +
			"the database holds no API key, serve makes one and prints it once.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.run(cmd.Context(), "serve", true, true)
		},
	}
}

func (e env) apiCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "api",
		Short: "Run the API alone",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.run(cmd.Context(), "api", true, false)
		},
	}
}

func (e env) workerCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "worker",
		Short: "Run the worker alone",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.run(cmd.Context(), "worker", false, true)
		},
	}
}

// errOneProcess refuses to split a SQLite installation into processes:
// only one process may open the file, so the API alone would queue
// deliveries that no worker could ever make.
var errOneProcess = errors.New("a SQLite database runs in one process: use herald serve, " +
	"or PostgreSQL to run the API and the worker apart")

// run starts the API, the worker or both, and stops them when ctx is done,
// giving work in flight HERALD_SHUTDOWN_TIMEOUT to finish.
func (e env) run(ctx context.Context, name string, withAPI, withWorker bool) error {
	cfg, err := e.config()
	if err != nil {
		return err
	}

	if _, ok := cfg.SQLitePath(); ok && (!withAPI || !withWorker) {
		return errOneProcess // before the file is created or locked
	}

	p, err := e.start(ctx, name, cfg)
	if err != nil {
		return err
	}
	defer p.close()

	policy := egress.NewPolicy(cfg.Networks())

	jobs, store, err := p.riverClient(!withWorker, policy)
	if err != nil {
		return err
	}

	group, ctx := errgroup.WithContext(ctx)

	if withAPI {
		keyring, err := p.keyring(ctx, name == "serve")
		if err != nil {
			return err
		}

		listener, err := (&net.ListenConfig{}).Listen(ctx, "tcp", p.cfg.Addr)
		if err != nil {
			return fmt.Errorf("HERALD_ADDR: %w", err)
		}

		fmt.Fprintf(e.stdout, "Herald API listening on http://%s\n", listener.Addr())
		group.Go(func() error { return p.serveAPI(ctx, listener, keyring, store, policy) })
	}

	if withWorker {
		group.Go(func() error { return p.runWorker(ctx, jobs) })
	}

	err = group.Wait()
	p.logger.InfoContext(context.WithoutCancel(ctx), "herald stopped", slog.String("command", name))

	return err //nolint:wrapcheck // each part wraps its own errors
}

// serveAPI serves the API and the console on listener until ctx is done.
func (p *process) serveAPI(
	ctx context.Context, listener net.Listener, keyring *auth.Keyring, st store.Store,
	policy *egress.Policy,
) error {
	support := console.New(console.Config{Store: st, Keyring: keyring, Logger: p.logger})

	var unused unusedConns

	srv := &http.Server{
		Handler: server.New(server.Config{
			Store:           st,
			Keyring:         keyring,
			Logger:          p.logger,
			MaxPayloadBytes: p.cfg.MaxPayloadBytes,
			Egress:          policy,
			Console:         support,
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(p.logger.Handler(), slog.LevelWarn),
		ConnState:         unused.track,
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(listener) }()

	select {
	case err := <-errc:
		return fmt.Errorf("serve api: %w", err)
	case <-ctx.Done():
	}

	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.cfg.ShutdownTimeout)
	defer cancel()

	srv.SetKeepAlivesEnabled(false)

	if err := shutdown(shutdownCtx, srv, &unused); err != nil {
		return fmt.Errorf("stop api: %w", err)
	}

	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve api: %w", err)
	}

	return nil
}

// riverClient returns the River client of the process: one that only
// queues jobs when insertOnly, else one that also works them.
func (p *process) riverClient(insertOnly bool, policy *egress.Policy) (jobs, store.Store, error) {
	// River reports its routine at Info; keep that out of the log unless
	// debugging, since Herald's own lines say what an operator needs.
	riverLevel := max(p.cfg.LogLevel, slog.LevelWarn)
	if p.cfg.LogLevel <= slog.LevelDebug {
		riverLevel = p.cfg.LogLevel
	}

	p.breakers = worker.NewBreakerStates(p.db.store, p.logger)

	return p.db.jobs(worker.Config{
		Logger:      p.logger,
		RiverLogger: newLogger(p.cfg.LogFormat, riverLevel, p.env.stderr),
		InsertOnly:  insertOnly,
		Workers:     p.cfg.Workers,
		Delivery: delivery.Config{
			Breakers: breaker.NewRegistry(breaker.Settings{
				Failures:      p.cfg.BreakerFailures,
				Cooldown:      p.cfg.BreakerCooldown,
				MaxInFlight:   p.cfg.EndpointConcurrency,
				OnStateChange: p.breakers.Record,
			}),
			Egress:    policy,
			Schedule:  p.cfg.RetrySchedule,
			Timeout:   p.cfg.DeliveryTimeout,
			UserAgent: "Herald/" + version.String(),
		},
	})
}

// runWorker works jobs until ctx is done.
func (p *process) runWorker(ctx context.Context, client jobs) error {
	if err := client.Start(ctx); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}

	p.breakers.Run(ctx)

	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.cfg.ShutdownTimeout)
	defer cancel()

	if err := client.Stop(stopCtx); err != nil {
		return fmt.Errorf("stop worker: %w", err)
	}

	return nil
}
