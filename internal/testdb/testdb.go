// Package testdb gives each test its own PostgreSQL schema, migrated and
// dropped at cleanup, so tests run in parallel without seeing each other's
// rows. Tests find the server through HERALD_TEST_DATABASE_URL and are
// skipped when it is unset.
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/schema"
)

// EnvURL names the variable holding the test database URL.
const EnvURL = "HERALD_TEST_DATABASE_URL"

// DB is one test's schema.
type DB struct {
	// URL connects to the schema: its search_path names it.
	URL string

	// Pool is a connection pool on URL, closed at cleanup.
	Pool *pgxpool.Pool
}

// New returns a fresh schema with every migration applied.
func New(t testing.TB) *DB {
	t.Helper()

	db := Empty(t)
	require.NoError(t, schema.Up(t.Context(), db.Pool, slog.New(slog.DiscardHandler)))

	return db
}

// Empty returns a fresh schema with nothing in it.
func Empty(t testing.TB) *DB {
	t.Helper()

	base := os.Getenv(EnvURL)
	if base == "" {
		t.Skipf("%s is not set; skipping a PostgreSQL test", EnvURL)
	}

	name := "test_" + randomHex(t)
	admin, err := pgxpool.New(t.Context(), base)
	require.NoError(t, err)
	defer admin.Close()

	_, err = admin.Exec(t.Context(), "CREATE SCHEMA "+name)
	require.NoError(t, err)

	t.Cleanup(func() { dropSchema(t, base, name) })

	u, err := url.Parse(base)
	require.NoError(t, err)

	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()

	pool, err := pgxpool.New(t.Context(), u.String())
	require.NoError(t, err)
	t.Cleanup(pool.Close)

	return &DB{URL: u.String(), Pool: pool}
}

func dropSchema(t testing.TB, base, name string) {
	t.Helper()

	ctx := context.Background()

	admin, err := pgxpool.New(ctx, base)
	if err != nil {
		t.Errorf("drop schema %s: %v", name, err)
		return
	}
	defer admin.Close()

	if _, err := admin.Exec(ctx, "DROP SCHEMA "+name+" CASCADE"); err != nil {
		t.Errorf("drop schema %s: %v", name, err)
	}
}

func randomHex(t testing.TB) string {
	t.Helper()

	b := make([]byte, 8)
	_, err := rand.Read(b)
	require.NoError(t, err)

	return hex.EncodeToString(b)
}
