// Package schema applies and reverts the database schema: River's tables
// through rivermigrate and Herald's own through golang-migrate, from the
// migrations embedded in the binary.
package schema

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strconv"
	"strings"

	"github.com/golang-migrate/migrate/v4"
	migratepgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/heraldhq/herald/migrations"
)

// migrationsTable records which of Herald's own migrations are applied.
const migrationsTable = "herald_schema_migrations"

// Status is the schema version of a database.
type Status struct {
	// Herald is the version of Herald's own schema, 0 when none is applied.
	// Dirty is true when a migration failed halfway and needs a hand.
	Herald uint
	Dirty  bool

	// River is the version of River's schema, 0 when none is applied.
	River int
}

// Up applies every pending migration, River's first. Processes starting at
// once take turns through an advisory lock, so each migration runs once.
func Up(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	return withLock(ctx, pool, func() error {
		migrator, err := riverMigrator(pool, logger)
		if err != nil {
			return err
		}

		if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
			return fmt.Errorf("river migrate up: %w", err)
		}

		return runHerald(pool, func(m *migrate.Migrate) error { return m.Up() })
	})
}

// Down reverts Herald's most recent migration. With all set it reverts every
// one of Herald's migrations and then River's, leaving an empty schema.
func Down(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger, all bool) error {
	return withLock(ctx, pool, func() error {
		if !all {
			return runHerald(pool, func(m *migrate.Migrate) error {
				if _, _, err := m.Version(); errors.Is(err, migrate.ErrNilVersion) {
					return nil // nothing to revert
				}

				return m.Steps(-1)
			})
		}

		if err := runHerald(pool, func(m *migrate.Migrate) error { return m.Down() }); err != nil {
			return err
		}

		if _, err := pool.Exec(ctx, "DROP TABLE IF EXISTS "+migrationsTable); err != nil {
			return fmt.Errorf("drop %s: %w", migrationsTable, err)
		}

		migrator, err := riverMigrator(pool, logger)
		if err != nil {
			return err
		}

		opts := &rivermigrate.MigrateOpts{TargetVersion: -1}
		if _, err := migrator.Migrate(ctx, rivermigrate.DirectionDown, opts); err != nil {
			return fmt.Errorf("river migrate down: %w", err)
		}

		return nil
	})
}

// Latest returns the version of Herald's newest migration, the one Up
// brings a database to.
func Latest() uint {
	entries, _ := fs.ReadDir(migrations.Postgres, "postgres")

	var latest uint

	for _, e := range entries {
		digits, _, _ := strings.Cut(e.Name(), "_")
		if v, err := strconv.ParseUint(digits, 10, 32); err == nil && uint(v) > latest {
			latest = uint(v)
		}
	}

	return latest
}

// Version reports the schema versions applied to the database. It only
// reads.
func Version(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) (Status, error) {
	var status Status

	var exists bool
	if err := pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", migrationsTable).Scan(&exists); err != nil {
		return Status{}, fmt.Errorf("find %s: %w", migrationsTable, err)
	}

	if exists {
		var version int64

		err := pool.QueryRow(ctx, "SELECT version, dirty FROM "+migrationsTable+" LIMIT 1").
			Scan(&version, &status.Dirty)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return Status{}, fmt.Errorf("read %s: %w", migrationsTable, err)
		}

		status.Herald = uint(version) //nolint:gosec // versions are small and positive
	}

	migrator, err := riverMigrator(pool, logger)
	if err != nil {
		return Status{}, err
	}

	versions, err := migrator.ExistingVersions(ctx)
	if err != nil {
		return Status{}, fmt.Errorf("river versions: %w", err)
	}

	if len(versions) > 0 {
		status.River = versions[len(versions)-1].Version
	}

	return status, nil
}

func riverMigrator(pool *pgxpool.Pool, logger *slog.Logger) (*rivermigrate.Migrator[pgx.Tx], error) {
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("river migrator: %w", err)
	}

	return m, nil
}

// runHerald runs fn on a golang-migrate instance over pool, treating "no
// change" as success.
func runHerald(pool *pgxpool.Pool, fn func(*migrate.Migrate) error) error {
	source, err := iofs.New(migrations.Postgres, "postgres")
	if err != nil {
		return fmt.Errorf("open migrations: %w", err)
	}

	db := stdlib.OpenDBFromPool(pool)

	driver, err := migratepgx.WithInstance(db, &migratepgx.Config{MigrationsTable: migrationsTable})
	if err != nil {
		_ = db.Close()
		return fmt.Errorf("open migration driver: %w", err)
	}

	m, err := migrate.NewWithInstance("iofs", source, "pgx5", driver)
	if err != nil {
		_ = driver.Close()
		return fmt.Errorf("new migrator: %w", err)
	}
	defer m.Close()

	if err := fn(m); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("herald migrations: %w", err)
	}

	return nil
}

// withLock runs fn while holding a session advisory lock private to the
// current schema, so concurrent migrations of one schema run one at a time
// and those of different schemas do not wait for each other. The lock lives
// on a connection of its own, outside pool, so that fn can use every
// connection of the pool, even when the pool has only one.
func withLock(ctx context.Context, pool *pgxpool.Pool, fn func() error) error {
	conn, err := pgx.ConnectConfig(ctx, pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("connect for migration lock: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	const key = "hashtext('herald.schema.' || current_schema())"
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock("+key+")"); err != nil {
		return fmt.Errorf("take migration lock: %w", err)
	}

	defer func() {
		// A fresh context: the lock must go even when ctx is done.
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock("+key+")")
	}()

	return fn()
}
