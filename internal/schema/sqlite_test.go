package schema_test

import (
	"context"
	"database/sql"
	"io/fs"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"

	"github.com/golang-migrate/migrate/v4"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/schema"
	"github.com/heraldhq/herald/internal/sqlite"
	"github.com/heraldhq/herald/migrations"
)

type liteBundle struct {
	db     *sql.DB
	logger *slog.Logger
}

// setupSQLite opens an empty SQLite file of the test's own.
func setupSQLite(t *testing.T) *liteBundle {
	t.Helper()

	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "herald.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })

	return &liteBundle{db: db, logger: slog.New(slog.DiscardHandler)}
}

func (b *liteBundle) up(t *testing.T) {
	t.Helper()
	require.NoError(t, schema.UpSQLite(t.Context(), b.db, b.logger))
}

func (b *liteBundle) down(t *testing.T, all bool) {
	t.Helper()
	require.NoError(t, schema.DownSQLite(t.Context(), b.db, b.logger, all))
}

func (b *liteBundle) version(t *testing.T) schema.Status {
	t.Helper()

	status, err := schema.VersionSQLite(t.Context(), b.db, b.logger)
	require.NoError(t, err)

	return status
}

// tables returns the names of the tables in the file, sorted.
func (b *liteBundle) tables(t *testing.T) []string {
	t.Helper()

	rows, err := b.db.QueryContext(t.Context(), `SELECT name FROM sqlite_schema
		WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	require.NoError(t, err)

	defer rows.Close()

	var names []string

	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		names = append(names, name)
	}

	require.NoError(t, rows.Err())

	return names
}

func (b *liteBundle) exists(t *testing.T, table string) bool {
	t.Helper()
	return slices.Contains(b.tables(t), table)
}

func (b *liteBundle) requireHeraldTables(t *testing.T, want bool) {
	t.Helper()

	tables := b.tables(t)
	for _, table := range heraldTables {
		require.Equal(t, want, slices.Contains(tables, table), "table %s", table)
	}
}

// TestSQLiteMigrationsMatchPostgres checks that both dialects have the
// same migrations, so that [schema.Latest] and a version number mean the
// same on both.
func TestSQLiteMigrationsMatchPostgres(t *testing.T) {
	t.Parallel()

	postgres, err := fs.Glob(migrations.Postgres, "postgres/*.sql")
	require.NoError(t, err)

	lite, err := fs.Glob(migrations.SQLite, "sqlite/*.sql")
	require.NoError(t, err)

	for i := range postgres {
		postgres[i] = filepath.Base(postgres[i])
	}

	for i := range lite {
		lite[i] = filepath.Base(lite[i])
	}

	require.NotEmpty(t, lite)
	require.Equal(t, postgres, lite)
}

func TestSQLiteVersionOfEmptyDatabase(t *testing.T) {
	t.Parallel()

	b := setupSQLite(t)
	require.Equal(t, schema.Status{}, b.version(t))
	require.Empty(t, b.tables(t))
}

func TestSQLiteUp(t *testing.T) {
	t.Parallel()

	b := setupSQLite(t)
	b.up(t)

	b.requireHeraldTables(t, true)
	require.True(t, b.exists(t, "river_job"))
	require.True(t, b.exists(t, "river_migration"))
	require.True(t, b.exists(t, "herald_schema_migrations"))

	status := b.version(t)
	require.Equal(t, schema.Latest(), status.Herald)
	require.False(t, status.Dirty)
	require.Positive(t, status.River)

	// golang-migrate's driver closes the database it is given when it is
	// closed itself; the caller's must stay open.
	require.NoError(t, b.db.PingContext(t.Context()))
}

func TestSQLiteUpTwiceIsNoOp(t *testing.T) {
	t.Parallel()

	b := setupSQLite(t)
	b.up(t)

	tables, status := b.tables(t), b.version(t)

	b.up(t)
	require.Equal(t, tables, b.tables(t))
	require.Equal(t, status, b.version(t))
}

func TestSQLiteDownOneStep(t *testing.T) {
	t.Parallel()

	b := setupSQLite(t)
	b.up(t)
	river := b.version(t).River

	b.down(t, false)
	require.False(t, b.exists(t, "replays"), "the latest migration's tables are gone")
	require.True(t, b.exists(t, "attempts"), "earlier migrations stay")
	require.True(t, b.exists(t, "endpoints"), "earlier migrations stay")
	require.True(t, b.exists(t, "river_job"))
	require.Equal(t, schema.Status{Herald: schema.Latest() - 1, River: river}, b.version(t))

	b.up(t)
	b.requireHeraldTables(t, true)
	require.Equal(t, schema.Status{Herald: schema.Latest(), River: river}, b.version(t))
}

func TestSQLiteDownOneStepWithNothingApplied(t *testing.T) {
	t.Parallel()

	b := setupSQLite(t)
	b.up(t)

	for range schema.Latest() {
		b.down(t, false)
	}

	b.requireHeraldTables(t, false)
	b.down(t, false)
	require.Equal(t, uint(0), b.version(t).Herald)
}

func TestSQLiteDownAll(t *testing.T) {
	t.Parallel()

	b := setupSQLite(t)
	b.up(t)
	b.down(t, true)

	require.Empty(t, b.tables(t))
	require.Equal(t, schema.Status{}, b.version(t))

	// Down again has nothing left to revert.
	b.down(t, true)
	require.Equal(t, schema.Status{}, b.version(t))

	// Up again rebuilds everything.
	b.up(t)
	b.requireHeraldTables(t, true)
	require.True(t, b.exists(t, "river_job"))
	require.Equal(t, schema.Latest(), b.version(t).Herald)
}

// TestSQLiteDownAllWithData checks that the down migrations drop tables
// holding rows, which foreign keys tie together.
func TestSQLiteDownAllWithData(t *testing.T) {
	t.Parallel()

	b := setupSQLite(t)
	b.up(t)

	for _, query := range []string{
		"INSERT INTO tenants (id, created_at, updated_at) VALUES ('acme', 0, 0)",
		`INSERT INTO endpoints (id, tenant_id, url, secret, secret_created_at, created_at, updated_at)
			VALUES ('ep', 'acme', 'https://example.com', 's', 0, 0, 0)`,
		`INSERT INTO messages (id, tenant_id, event_type, payload, body_hash, created_at)
			VALUES ('msg', 'acme', 'a.b', X'7B7D', X'00', 0)`,
		`INSERT INTO deliveries (message_id, endpoint_id, status, updated_at)
			VALUES ('msg', 'ep', 'pending', 0)`,
		`INSERT INTO attempts (id, message_id, endpoint_id, attempt, started_at, duration_us, succeeded)
			VALUES ('att', 'msg', 'ep', 1, 0, 0, 0)`,
	} {
		_, err := b.db.ExecContext(t.Context(), query)
		require.NoError(t, err)
	}

	b.down(t, true)
	require.Empty(t, b.tables(t))
}

// TestSQLiteDirty checks that a migration left half done is reported and
// stops every further migration until someone repairs it.
func TestSQLiteDirty(t *testing.T) {
	t.Parallel()

	b := setupSQLite(t)
	b.up(t)

	_, err := b.db.ExecContext(t.Context(), "UPDATE herald_schema_migrations SET dirty = true")
	require.NoError(t, err)

	status := b.version(t)
	require.Equal(t, schema.Latest(), status.Herald)
	require.True(t, status.Dirty)

	for _, err := range []error{
		schema.UpSQLite(t.Context(), b.db, b.logger),
		schema.DownSQLite(t.Context(), b.db, b.logger, false),
		schema.DownSQLite(t.Context(), b.db, b.logger, true),
	} {
		var dirty migrate.ErrDirty
		require.ErrorAs(t, err, &dirty)
		require.Equal(t, int(schema.Latest()), dirty.Version)
	}

	b.requireHeraldTables(t, true)
	require.True(t, b.exists(t, "river_job"))
}

func TestSQLiteCanceledContext(t *testing.T) {
	t.Parallel()

	b := setupSQLite(t)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	require.Error(t, schema.UpSQLite(ctx, b.db, b.logger))
	require.Error(t, schema.DownSQLite(ctx, b.db, b.logger, true))

	_, err := schema.VersionSQLite(ctx, b.db, b.logger)
	require.Error(t, err)

	require.Equal(t, schema.Status{}, b.version(t))
}
