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
	"github.com/heraldhq/herald/internal/server"
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

// run starts the API, the worker or both, and stops them when ctx is done,
// giving work in flight HERALD_SHUTDOWN_TIMEOUT to finish.
func (e env) run(ctx context.Context, name string, withAPI, withWorker bool) error {
	p, err := e.start(ctx, name)
	if err != nil {
		return err
	}
	defer p.close()

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
		group.Go(func() error { return p.serveAPI(ctx, listener, keyring) })
	}

	if withWorker {
		group.Go(func() error { return p.runWorker(ctx) })
	}

	err = group.Wait()
	p.logger.InfoContext(context.WithoutCancel(ctx), "herald stopped", slog.String("command", name))

	return err //nolint:wrapcheck // each part wraps its own errors
}

// serveAPI serves the API on listener until ctx is done.
func (p *process) serveAPI(ctx context.Context, listener net.Listener, keyring *auth.Keyring) error {
	srv := &http.Server{
		Handler: server.New(server.Config{
			Store:   p.store,
			Keyring: keyring,
			Logger:  p.logger,
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(p.logger.Handler(), slog.LevelWarn),
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

	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("stop api: %w", err)
	}

	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve api: %w", err)
	}

	return nil
}

// runWorker works jobs until ctx is done.
func (p *process) runWorker(ctx context.Context) error {
	// River reports its routine at Info; keep that out of the log unless
	// debugging, since Herald's own lines say what an operator needs.
	riverLevel := max(p.cfg.LogLevel, slog.LevelWarn)
	if p.cfg.LogLevel <= slog.LevelDebug {
		riverLevel = p.cfg.LogLevel
	}

	client, err := worker.New(worker.Config{
		Pool:        p.pool,
		Store:       p.store,
		Logger:      p.logger,
		RiverLogger: newLogger(p.cfg.LogFormat, riverLevel, p.env.stderr),
	})
	if err != nil {
		return err //nolint:wrapcheck // already wrapped
	}

	if err := client.Start(ctx); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}

	<-ctx.Done()

	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.cfg.ShutdownTimeout)
	defer cancel()

	if err := client.Stop(stopCtx); err != nil {
		return fmt.Errorf("stop worker: %w", err)
	}

	return nil
}
