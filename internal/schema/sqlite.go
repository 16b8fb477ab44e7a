package schema

import (
	"context"
	"database/sql"
	"errors"
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
	migrator, err := riverMigratorSQLite(db, logger)
	if err != nil {
		return err
	}

	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrate up: %w", err)
	}

	return runHeraldSQLite(db, (*migrate.Migrate).Up)
}

// DownSQLite reverts Herald's most recent migration of the SQLite database
// db. With all set it reverts every one of Herald's migrations and then
// River's, leaving an empty database, as [Down] does on PostgreSQL.
func DownSQLite(ctx context.Context, db *sql.DB, logger *slog.Logger, all bool) error {
	if all {
		return downAllSQLite(ctx, db, logger)
	}

	return runHeraldSQLite(db, stepDown)
}

// stepDown reverts the most recent migration, if there is one.
func stepDown(m *migrate.Migrate) error {
	if _, _, err := m.Version(); errors.Is(err, migrate.ErrNilVersion) {
		return nil // nothing to revert
	}

	return m.Steps(-1)
}

func downAllSQLite(ctx context.Context, db *sql.DB, logger *slog.Logger) error {
	if err := runHeraldSQLite(db, (*migrate.Migrate).Down); err != nil {
		return err
	}

	if _, err := db.ExecContext(ctx, "DROP TABLE IF EXISTS "+migrationsTable); err != nil {
		return fmt.Errorf("drop %s: %w", migrationsTable, err)
	}

	migrator, err := riverMigratorSQLite(db, logger)
	if err != nil {
		return err
	}

	opts := &rivermigrate.MigrateOpts{TargetVersion: -1}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionDown, opts); err != nil {
		return fmt.Errorf("river migrate down: %w", err)
	}

	return nil
}

// VersionSQLite reports the schema versions applied to the SQLite database
// db. It only reads.
func VersionSQLite(ctx context.Context, db *sql.DB, logger *slog.Logger) (Status, error) {
	status, err := heraldVersionSQLite(ctx, db)
	if err != nil {
		return Status{}, err
	}

	migrator, err := riverMigratorSQLite(db, logger)
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

// heraldVersionSQLite reads the version of Herald's own schema.
func heraldVersionSQLite(ctx context.Context, db *sql.DB) (Status, error) {
	var (
		status Status
		exists bool
	)

	const find = "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?)"
	if err := db.QueryRowContext(ctx, find, migrationsTable).Scan(&exists); err != nil {
		return Status{}, fmt.Errorf("find %s: %w", migrationsTable, err)
	}

	if !exists {
		return status, nil
	}

	var version int64

	err := db.QueryRowContext(ctx, "SELECT version, dirty FROM "+migrationsTable+" LIMIT 1").
		Scan(&version, &status.Dirty)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Status{}, fmt.Errorf("read %s: %w", migrationsTable, err)
	}

	status.Herald = uint(version) //nolint:gosec // versions are small and positive

	return status, nil
}

func riverMigratorSQLite(db *sql.DB, logger *slog.Logger) (*rivermigrate.Migrator[*sql.Tx], error) {
	m, err := rivermigrate.New(riversqlite.New(db), &rivermigrate.Config{Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("river migrator: %w", err)
	}

	return m, nil
}

// runHeraldSQLite runs fn on a golang-migrate instance over db, treating
// "no change" as success. db stays open: see [keepOpen].
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
	defer m.Close()

	if err := fn(m); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("herald migrations: %w", err)
	}

	return nil
}

// keepOpen is a golang-migrate driver whose Close leaves the database open.
// The sqlite driver's own Close closes the *sql.DB it was given, which
// belongs to the caller and goes on serving after the migration.
type keepOpen struct {
	database.Driver
}

// Close does nothing.
func (keepOpen) Close() error { return nil }
