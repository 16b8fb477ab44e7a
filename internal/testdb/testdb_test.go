package testdb_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/testdb"
)

func currentSchema(t *testing.T, db *testdb.DB) string {
	t.Helper()

	var name string
	require.NoError(t, db.Pool.QueryRow(t.Context(), "SELECT current_schema()").Scan(&name))

	return name
}

func tableCount(t *testing.T, db *testdb.DB) int {
	t.Helper()

	var n int
	require.NoError(t, db.Pool.QueryRow(t.Context(),
		"SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()").Scan(&n))

	return n
}

func TestEmpty(t *testing.T) {
	t.Parallel()

	db := testdb.Empty(t)
	name := currentSchema(t, db)

	require.True(t, strings.HasPrefix(name, "test_"), name)
	require.Contains(t, db.URL, "search_path="+name)
	require.Zero(t, tableCount(t, db))
}

func TestNew(t *testing.T) {
	t.Parallel()

	db := testdb.New(t)

	var ok bool
	require.NoError(t, db.Pool.QueryRow(t.Context(), "SELECT to_regclass('tenants') IS NOT NULL").Scan(&ok))
	require.True(t, ok)
	require.Positive(t, tableCount(t, db))
}

func TestSchemasAreIsolated(t *testing.T) {
	t.Parallel()

	a, b := testdb.New(t), testdb.New(t)
	require.NotEqual(t, currentSchema(t, a), currentSchema(t, b))

	_, err := a.Pool.Exec(t.Context(),
		"INSERT INTO tenants (id, created_at, updated_at) VALUES ('acme', now(), now())")
	require.NoError(t, err)

	var n int
	require.NoError(t, b.Pool.QueryRow(t.Context(), "SELECT count(*) FROM tenants").Scan(&n))
	require.Zero(t, n)
}

func TestDroppedAtCleanup(t *testing.T) {
	t.Parallel()

	var name string

	// Registered first, so it runs after testdb's own cleanup.
	t.Cleanup(func() {
		if name == "" {
			return // skipped, or failed before the schema was made
		}

		ctx := context.Background() // t.Context is done by now

		admin, err := pgxpool.New(ctx, os.Getenv(testdb.EnvURL))
		require.NoError(t, err)
		defer admin.Close()

		var exists bool
		require.NoError(t, admin.QueryRow(ctx,
			"SELECT EXISTS (SELECT 1 FROM information_schema.schemata WHERE schema_name = $1)",
			name).Scan(&exists))
		require.False(t, exists, "schema %s is left", name)
	})

	name = currentSchema(t, testdb.New(t))
}
