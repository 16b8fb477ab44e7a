package cli

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/postgres"
	"github.com/heraldhq/herald/internal/schema"
	"github.com/heraldhq/herald/internal/sqlite"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/worker"
)

// jobs is a River client, whatever its database.
type jobs interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// database is what a process runs on: PostgreSQL, or a SQLite file. Its
// methods hide which one.
type database struct {
	// store reads and writes; it cannot publish (see jobs).
	store store.Store

	up      func(ctx context.Context, logger *slog.Logger) error
	down    func(ctx context.Context, logger *slog.Logger, all bool) error
	version func(ctx context.Context, logger *slog.Logger) (schema.Status, error)

	// jobs returns the River client of the process and the store that
	// publishes through it.
	jobs func(cfg worker.Config) (jobs, store.Store, error)

	close func()
}

// openDatabase connects to the database cfg names.
func openDatabase(ctx context.Context, cfg config.Config) (*database, error) {
	if path, ok := cfg.SQLitePath(); ok {
		return openSQLite(ctx, path)
	}

	return openPostgres(ctx, cfg)
}

func openPostgres(ctx context.Context, cfg config.Config) (*database, error) {
	pool, err := openPool(ctx, cfg)
	if err != nil {
		return nil, err
	}

	pg := postgres.New(pool)

	return &database{
		store: pg,
		up: func(ctx context.Context, logger *slog.Logger) error {
			return schema.Up(ctx, pool, logger)
		},
		down: func(ctx context.Context, logger *slog.Logger, all bool) error {
			return schema.Down(ctx, pool, logger, all)
		},
		version: func(ctx context.Context, logger *slog.Logger) (schema.Status, error) {
			return schema.Version(ctx, pool, logger)
		},
		jobs: func(wcfg worker.Config) (jobs, store.Store, error) {
			enqueuer := worker.NewEnqueuer[pgx.Tx](nil)
			enqueuing := pg.WithEnqueue(enqueuer)
			wcfg.Store = enqueuing

			client, err := worker.New(riverpgxv5.New(pool), wcfg)
			if err != nil {
				return nil, nil, err //nolint:wrapcheck // already wrapped
			}

			enqueuer.Use(client)

			return client, enqueuing, nil
		},
		close: pool.Close,
	}, nil
}

// openSQLite opens the SQLite file at path, creating it if need be. A lock
// beside it keeps a second process from opening it: SQLite itself would
// let both in, and two River clients on one file step on each other.
func openSQLite(ctx context.Context, path string) (*database, error) {
	unlock, err := lockFile(path + ".lock")
	if err != nil {
		return nil, err
	}

	db, err := sqlite.Open(ctx, path)
	if err != nil {
		unlock()
		return nil, fmt.Errorf("HERALD_DATABASE_URL: %w", err)
	}

	lite := sqlite.New(db)

	return &database{
		store: lite,
		up: func(ctx context.Context, logger *slog.Logger) error {
			return schema.UpSQLite(ctx, db, logger)
		},
		down: func(ctx context.Context, logger *slog.Logger, all bool) error {
			return schema.DownSQLite(ctx, db, logger, all)
		},
		version: func(ctx context.Context, logger *slog.Logger) (schema.Status, error) {
			return schema.VersionSQLite(ctx, db, logger)
		},
		jobs: func(wcfg worker.Config) (jobs, store.Store, error) {
			enqueuer := worker.NewEnqueuer[*sql.Tx](nil)
			enqueuing := lite.WithEnqueue(enqueuer)
			wcfg.Store = enqueuing

			client, err := worker.New(riversqlite.New(db), wcfg)
			if err != nil {
				return nil, nil, err //nolint:wrapcheck // already wrapped
			}

			enqueuer.Use(client)

			return client, enqueuing, nil
		},
		close: func() {
			_ = db.Close()
			unlock()
		},
	}, nil
}

// errInUse is returned when another process has the SQLite file open.
var errInUse = errors.New("in use by another Herald process")

// lockFile takes an exclusive lock on path, creating it if need be, and
// returns the function that releases it. The lock goes with the process,
// so a crash never leaves it behind.
func lockFile(path string) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("create database directory: %w", err)
	}

	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}

	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("database %s is %w; stop it first, or give this one its own HERALD_DATABASE_URL",
				filepath.Base(path[:len(path)-len(".lock")]), errInUse)
		}

		return nil, fmt.Errorf("lock %s: %w", path, err)
	}

	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}
