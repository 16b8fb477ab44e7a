package schema_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/golang-migrate/migrate/v4"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/schema"
	"github.com/heraldhq/herald/internal/testdb"
)

// heraldTables are the tables of Herald's own migrations.
var heraldTables = []string{"api_keys", "attempts", "deliveries", "endpoints", "messages", "tenants"}

type testBundle struct {
	db     *testdb.DB
	logger *slog.Logger
}

func setup(t *testing.T) *testBundle {
	t.Helper()

	return &testBundle{
		db:     testdb.Empty(t),
		logger: slog.New(slog.DiscardHandler),
	}
}

func (b *testBundle) up(t *testing.T) {
	t.Helper()
	require.NoError(t, schema.Up(t.Context(), b.db.Pool, b.logger))
}

func (b *testBundle) down(t *testing.T, all bool) {
	t.Helper()
	require.NoError(t, schema.Down(t.Context(), b.db.Pool, b.logger, all))
}

func (b *testBundle) version(t *testing.T) schema.Status {
	t.Helper()

	status, err := schema.Version(t.Context(), b.db.Pool, b.logger)
	require.NoError(t, err)

	return status
}

// tables returns the names of the tables in the test's schema, sorted.
func (b *testBundle) tables(t *testing.T) []string {
	t.Helper()

	rows, err := b.db.Pool.Query(t.Context(), `
		SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
		ORDER BY table_name COLLATE "C"`)
	require.NoError(t, err)

	var names []string

	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		names = append(names, name)
	}

	require.NoError(t, rows.Err())

	return names
}

// exists reports whether table resolves in the test's schema.
func (b *testBundle) exists(t *testing.T, table string) bool {
	t.Helper()

	var ok bool
	err := b.db.Pool.QueryRow(t.Context(), "SELECT to_regclass($1) IS NOT NULL", table).Scan(&ok)
	require.NoError(t, err)

	return ok
}

func (b *testBundle) requireHeraldTables(t *testing.T, want bool) {
	t.Helper()

	for _, table := range heraldTables {
		require.Equal(t, want, b.exists(t, table), "table %s", table)
	}
}

func TestVersionOfEmptySchema(t *testing.T) {
	t.Parallel()

	b := setup(t)
	require.Equal(t, schema.Status{}, b.version(t))
	require.False(t, b.exists(t, "river_job"))
}

func TestUp(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.up(t)

	b.requireHeraldTables(t, true)
	require.True(t, b.exists(t, "river_job"))
	require.True(t, b.exists(t, "river_migration"))

	status := b.version(t)
	require.Equal(t, schema.Latest(), status.Herald)
	require.False(t, status.Dirty)
	require.Positive(t, status.River)

	// The tables land in the test's schema, not in public.
	tables := b.tables(t)
	require.Subset(t, tables, append([]string{"river_job", "herald_schema_migrations"}, heraldTables...))
}

func TestUpTwiceIsNoOp(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.up(t)

	tables, status := b.tables(t), b.version(t)

	b.up(t)
	require.Equal(t, tables, b.tables(t))
	require.Equal(t, status, b.version(t))
}

func TestDownOneStep(t *testing.T) {
	t.Parallel()

	b := setup(t)
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

// TestDownOneStepWithNothingApplied checks that reverting one step when
// none of Herald's migrations is applied does nothing, as Up does when none
// is pending.
func TestDownOneStepWithNothingApplied(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.up(t)

	for range schema.Latest() {
		b.down(t, false)
	}

	b.requireHeraldTables(t, false)
	require.NoError(t, schema.Down(t.Context(), b.db.Pool, b.logger, false))
	require.Equal(t, uint(0), b.version(t).Herald)
}

func TestDownAll(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.up(t)
	b.down(t, true)

	// Only golang-migrate's bookkeeping table may remain.
	b.requireHeraldTables(t, false)
	require.Subset(t, []string{"herald_schema_migrations"}, b.tables(t))
	require.False(t, b.exists(t, "river_job"))
	require.False(t, b.exists(t, "river_migration"))
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

// TestDirty checks that a migration left half done is reported and stops
// every further migration until someone repairs it.
func TestDirty(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.up(t)

	_, err := b.db.Pool.Exec(t.Context(), "UPDATE herald_schema_migrations SET dirty = true")
	require.NoError(t, err)

	status := b.version(t)
	require.Equal(t, schema.Latest(), status.Herald)
	require.True(t, status.Dirty)

	for _, err := range []error{
		schema.Up(t.Context(), b.db.Pool, b.logger),
		schema.Down(t.Context(), b.db.Pool, b.logger, false),
		schema.Down(t.Context(), b.db.Pool, b.logger, true),
	} {
		var dirty migrate.ErrDirty
		require.ErrorAs(t, err, &dirty)
		require.Equal(t, int(schema.Latest()), dirty.Version)
	}

	b.requireHeraldTables(t, true)
	require.True(t, b.exists(t, "river_job"))
}

// TestUpConcurrentProcesses starts migrations from four pools at once, as
// four processes starting together would, on one empty schema: the advisory
// lock lets each finish without tripping over the others.
func TestUpConcurrentProcesses(t *testing.T) {
	t.Parallel()

	b := setup(t)
	pools := make([]*pgxpool.Pool, 4)

	for i := range pools {
		pools[i] = newPool(t, b.db.URL)
	}

	errs := make([]error, len(pools))

	var wg sync.WaitGroup
	for i, pool := range pools {
		wg.Go(func() { errs[i] = schema.Up(t.Context(), pool, b.logger) })
	}

	wg.Wait()

	for i, err := range errs {
		require.NoError(t, err, "migration %d", i)
	}

	b.requireHeraldTables(t, true)

	status := b.version(t)
	require.Equal(t, schema.Latest(), status.Herald)
	require.False(t, status.Dirty)
	require.Positive(t, status.River)
}

// TestUpConcurrentOnePool runs four migrations at once on one pool of at
// most four connections. They must all succeed rather than wait on each
// other for ever; the deadline turns a deadlock into a failure.
func TestUpConcurrentOnePool(t *testing.T) {
	t.Parallel()

	b := setup(t)
	pool := newPool(t, b.db.URL+"&pool_max_conns=4")

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()

	errs := make([]error, 4)

	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() { errs[i] = schema.Up(ctx, pool, b.logger) })
	}

	wg.Wait()

	for i, err := range errs {
		require.NoError(t, err, "migration %d", i)
	}

	b.requireHeraldTables(t, true)
	require.Equal(t, schema.Latest(), b.version(t).Herald)
}

// TestUpOneConnection migrates through a pool of a single connection, as
// HERALD_DATABASE_MAX_CONNS=1 allows.
func TestUpOneConnection(t *testing.T) {
	t.Parallel()

	b := setup(t)
	pool := newPool(t, b.db.URL+"&pool_max_conns=1")

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()

	require.NoError(t, schema.Up(ctx, pool, b.logger))
	b.requireHeraldTables(t, true)
}

func TestCanceledContext(t *testing.T) {
	t.Parallel()

	b := setup(t)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	require.Error(t, schema.Up(ctx, b.db.Pool, b.logger))
	require.Error(t, schema.Down(ctx, b.db.Pool, b.logger, true))
	require.Equal(t, schema.Status{}, b.version(t))
}

func newPool(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()

	pool, err := pgxpool.New(t.Context(), url)
	require.NoError(t, err)
	t.Cleanup(pool.Close)

	return pool
}
