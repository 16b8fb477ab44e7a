// Package schema applies and reverts the database schema: River's tables
// through rivermigrate and Herald's own through golang-migrate, from the
// migrations embedded in the binary, on PostgreSQL or on SQLite.
package schema

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/golang-migrate/migrate/v4"
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

// Latest returns the version of Herald's newest migration, the one Up
// brings a database to. Both dialects number their migrations alike.
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

// riverMigrator is River's migrator, whatever its driver.
type riverMigrator interface {
	Migrate(
		ctx context.Context, direction rivermigrate.Direction, opts *rivermigrate.MigrateOpts,
	) (*rivermigrate.MigrateResult, error)
	ExistingVersions(ctx context.Context) ([]rivermigrate.Migration, error)
}

// target is one database to migrate, in the terms the steps below need; the
// dialect files build it.
type target struct {
	river riverMigrator

	// herald runs fn on golang-migrate over the database, treating "no
	// change" as success.
	herald func(fn func(*migrate.Migrate) error) error

	// exec runs a statement.
	exec func(ctx context.Context, query string) error

	// scanRow runs a query of one row into dest, reporting false when it
	// found none.
	scanRow func(ctx context.Context, query string, args []any, dest ...any) (bool, error)

	// tableExists is a query of one boolean: whether the table named by
	// its one parameter exists.
	tableExists string
}

// up applies River's pending migrations, then Herald's.
func (t target) up(ctx context.Context) error {
	if _, err := t.river.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrate up: %w", err)
	}

	return t.herald((*migrate.Migrate).Up)
}

// down reverts Herald's latest migration or, with all, every migration of
// Herald's and then River's, leaving an empty database.
func (t target) down(ctx context.Context, all bool) error {
	if !all {
		return t.herald(stepDown)
	}

	if err := t.herald((*migrate.Migrate).Down); err != nil {
		return err
	}

	if err := t.exec(ctx, "DROP TABLE IF EXISTS "+migrationsTable); err != nil {
		return fmt.Errorf("drop %s: %w", migrationsTable, err)
	}

	opts := &rivermigrate.MigrateOpts{TargetVersion: -1}
	if _, err := t.river.Migrate(ctx, rivermigrate.DirectionDown, opts); err != nil {
		return fmt.Errorf("river migrate down: %w", err)
	}

	return nil
}

// stepDown reverts the most recent migration, if there is one.
func stepDown(m *migrate.Migrate) error {
	if _, _, err := m.Version(); errors.Is(err, migrate.ErrNilVersion) {
		return nil // nothing to revert
	}

	return m.Steps(-1)
}

// version reads the applied versions. It only reads: golang-migrate would
// create its table to answer.
func (t target) version(ctx context.Context) (Status, error) {
	var (
		status Status
		exists bool
	)

	if _, err := t.scanRow(ctx, t.tableExists, []any{migrationsTable}, &exists); err != nil {
		return Status{}, fmt.Errorf("find %s: %w", migrationsTable, err)
	}

	if exists {
		var version int64

		query := "SELECT version, dirty FROM " + migrationsTable + " LIMIT 1"
		if _, err := t.scanRow(ctx, query, nil, &version, &status.Dirty); err != nil {
			return Status{}, fmt.Errorf("read %s: %w", migrationsTable, err)
		}

		status.Herald = uint(version) //nolint:gosec // versions are small and positive
	}

	versions, err := t.river.ExistingVersions(ctx)
	if err != nil {
		return Status{}, fmt.Errorf("river versions: %w", err)
	}

	if len(versions) > 0 {
		status.River = versions[len(versions)-1].Version
	}

	return status, nil
}

// found turns the error of a one-row scan into whether the row was there;
// noRows is the driver's error for none.
func found(err, noRows error) (bool, error) {
	if errors.Is(err, noRows) {
		return false, nil
	}

	return err == nil, err
}

// runMigrate runs fn on m and closes m, treating "no change" as success.
func runMigrate(m *migrate.Migrate, fn func(*migrate.Migrate) error) error {
	defer m.Close()

	if err := fn(m); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("herald migrations: %w", err)
	}

	return nil
}
