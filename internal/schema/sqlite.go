package schema

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"

	"github.com/golang-migrate/migrate/v4"
	"github.com/golang-migrate/migrate/v4/database"
	migratesqlite "github.com/golang-migrate/migrate/v4/database/sqlite"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/heraldhq/herald/migrations"
)

// The SQLite functions need no lock of their own: one process at a time
// opens a SQLite file, and it migrates before it serves.

// UpSQLite applies every pending migration to the SQLite database db,
// River's first, as [Up] does on PostgreSQL. The caller keeps ownership of
// db.
func UpSQLite(ctx context.Context, db *sql.DB, logger *slog.Logger) error {
	t, err := sqliteTarget(db, logger)
	if err != nil {
		return err
	}

	return t.up(ctx)
}

// DownSQLite reverts Herald's most recent migration of the SQLite database
// db. With all set it reverts every one of Herald's migrations and then
// River's, leaving an empty database, as [Down] does on PostgreSQL.
func DownSQLite(ctx context.Context, db *sql.DB, logger *slog.Logger, all bool) error {
	t, err := sqliteTarget(db, logger)
	if err != nil {
		return err
	}

	return t.down(ctx, all)
}

// VersionSQLite reports the schema versions applied to the SQLite database
// db. It only reads.
func VersionSQLite(ctx context.Context, db *sql.DB, logger *slog.Logger) (Status, error) {
	t, err := sqliteTarget(db, logger)
	if err != nil {
		return Status{}, err
	}

	return t.version(ctx)
}

//nolint:dupl // the same fields as postgresTarget, for SQLite
func sqliteTarget(db *sql.DB, logger *slog.Logger) (target, error) {
	river, err := rivermigrate.New(riversqlite.New(db), &rivermigrate.Config{Logger: logger})
	if err != nil {
		return target{}, fmt.Errorf("river migrator: %w", err)
	}

	return target{
		river:  river,
		herald: func(fn func(*migrate.Migrate) error) error { return runHeraldSQLite(db, fn) },
		exec: func(ctx context.Context, query string) error {
			_, err := db.ExecContext(ctx, query)
			return err //nolint:wrapcheck // wrapped by the caller
		},
		scanRow: func(ctx context.Context, query string, args []any, dest ...any) (bool, error) {
			return found(db.QueryRowContext(ctx, query, args...).Scan(dest...), sql.ErrNoRows)
		},
		tableExists: "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?)",
	}, nil
}

// runHeraldSQLite runs fn on a golang-migrate instance over db. db stays
// open: see [keepOpen].
func runHeraldSQLite(db *sql.DB, fn func(*migrate.Migrate) error) error {
	source, err := iofs.New(migrations.SQLite, "sqlite")
	if err != nil {
		return fmt.Errorf("open migrations: %w", err)
	}

	driver, err := migratesqlite.WithInstance(db, &migratesqlite.Config{MigrationsTable: migrationsTable})
	if err != nil {
		_ = source.Close()
		return fmt.Errorf("open migration driver: %w", err)
	}

	m, err := migrate.NewWithInstance("iofs", source, "sqlite", keepOpen{driver})
	if err != nil {
		_ = source.Close()
		return fmt.Errorf("new migrator: %w", err)
	}

	return runMigrate(m, fn)
}

// keepOpen is a golang-migrate driver whose Close leaves the database open.
// The sqlite driver's own Close closes the *sql.DB it was given, which
// belongs to the caller and goes on serving after the migration.
type keepOpen struct {
	database.Driver
}

// Close does nothing.
func (keepOpen) Close() error { return nil }
