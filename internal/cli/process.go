package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/worker"
)

// process is what every long-running command shares: its configuration,
// logger and database.
type process struct {
	env    env
	cfg    config.Config
	logger *slog.Logger
	db     *database

	// breakers writes the state changes of the worker's breakers.
	breakers *worker.BreakerStates
}

// start connects to the database cfg names and, unless told not to,
// applies the migrations. name is the command, for the logs.
func (e env) start(ctx context.Context, name string, cfg config.Config) (*process, error) {
	tuneGC(e.environ)

	p := &process{env: e, cfg: cfg, logger: newLogger(cfg.LogFormat, cfg.LogLevel, e.stderr)}
	p.logger.InfoContext(ctx, "herald starting", slog.String("command", name), slog.Any("config", cfg))

	var err error
	if p.db, err = openDatabase(ctx, cfg); err != nil {
		return nil, err
	}

	if cfg.AutoMigrate {
		if err := p.db.up(ctx, p.logger); err != nil {
			p.close()
			return nil, fmt.Errorf("apply migrations: %w", err)
		}
	}

	return p, nil
}

func (p *process) close() {
	p.db.close()
}

// keyring returns the API keys that may call the API: HERALD_API_KEY and
// those stored in the database. When there is none and bootstrap is set, it
// makes one, stores its hash and prints it, once.
func (p *process) keyring(ctx context.Context, bootstrap bool) (*auth.Keyring, error) {
	hashes, err := p.db.store.APIKeyHashes(ctx)
	if err != nil {
		return nil, fmt.Errorf("read api keys: %w", err)
	}

	if p.cfg.APIKey != "" {
		hashes = append(hashes, auth.Hash(p.cfg.APIKey))
	}

	if len(hashes) > 0 {
		return auth.NewKeyring(hashes...), nil
	}

	if !bootstrap {
		return nil, errors.New("no API key: set HERALD_API_KEY, or run herald serve once to make one")
	}

	plain, key, err := auth.NewKey("admin")
	if err != nil {
		return nil, fmt.Errorf("make api key: %w", err)
	}

	created, err := p.db.store.CreateFirstAPIKey(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("store api key: %w", err)
	}

	if !created {
		// Another process made the first key meanwhile: use what is stored.
		return p.keyring(ctx, false)
	}

	fmt.Fprintf(p.env.stdout, "\nAdmin API key (shown once, keep it safe):\n\n    %s\n\n", plain)

	return auth.NewKeyring(key.Hash), nil
}

// newLogger returns a logger writing lines of format ("json" or "text") at
// level and above to w.
func newLogger(format string, level slog.Level, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}

	return slog.New(slog.NewTextHandler(w, opts))
}

func openPool(ctx context.Context, cfg config.Config) (*pgxpool.Pool, error) {
	poolCfg, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("HERALD_DATABASE_URL: %w", err)
	}

	if cfg.DatabaseMaxConns > 0 {
		poolCfg.MaxConns = cfg.DatabaseMaxConns
	}

	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}

	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database %s: %w", host(poolCfg), err)
	}

	return pool, nil
}

// host names the database server without credentials, for error messages.
func host(cfg *pgxpool.Config) string {
	return fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
}
