package schema

import (
	"context"
	"fmt"
	"log/slog"

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

// Up applies every pending migration, River's first. Processes starting at
// once take turns through an advisory lock, so each migration runs once.
func Up(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	return withLock(ctx, pool, func() error {
		t, err := postgresTarget(pool, logger)
		if err != nil {
			return err
		}

		return t.up(ctx)
	})
}

// Down reverts Herald's most recent migration. With all set it reverts every
// one of Herald's migrations and then River's, leaving an empty schema.
func Down(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger, all bool) error {
	return withLock(ctx, pool, func() error {
		t, err := postgresTarget(pool, logger)
		if err != nil {
			return err
		}

		return t.down(ctx, all)
	})
}

// Version reports the schema versions applied to the database. It only
// reads.
func Version(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) (Status, error) {
	t, err := postgresTarget(pool, logger)
	if err != nil {
		return Status{}, err
	}

	return t.version(ctx)
}

// postgresTarget and sqliteTarget are alike by design: each fills [target]
// for its dialect.
//
//nolint:dupl // the same fields, one dialect each
func postgresTarget(pool *pgxpool.Pool, logger *slog.Logger) (target, error) {
	river, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: logger})
	if err != nil {
		return target{}, fmt.Errorf("river migrator: %w", err)
	}

	return target{
		river:  river,
		herald: func(fn func(*migrate.Migrate) error) error { return runHerald(pool, fn) },
		exec: func(ctx context.Context, query string) error {
			_, err := pool.Exec(ctx, query)
			return err //nolint:wrapcheck // wrapped by the caller
		},
		scanRow: func(ctx context.Context, query string, args []any, dest ...any) (bool, error) {
			return found(pool.QueryRow(ctx, query, args...).Scan(dest...), pgx.ErrNoRows)
		},
		tableExists: "SELECT to_regclass($1) IS NOT NULL",
	}, nil
}

// runHerald runs fn on a golang-migrate instance over pool.
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

	return runMigrate(m, fn)
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
