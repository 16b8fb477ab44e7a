package testdb

import (
	"os"
	"path/filepath"
	"testing"
)

// Backend is a database Herald can run on, for tests that run once on each.
type Backend struct {
	// Name is "sqlite" or "postgres".
	Name string

	// URL is the value of HERALD_DATABASE_URL: a fresh, empty database
	// that belongs to the test.
	URL string
}

// SQLiteURL returns the HERALD_DATABASE_URL of a fresh SQLite file in the
// test's temporary directory.
func SQLiteURL(t testing.TB) string {
	t.Helper()

	return "sqlite://" + filepath.Join(t.TempDir(), "herald.db")
}

// Each runs fn as a subtest once per backend: SQLite always, PostgreSQL
// when HERALD_TEST_DATABASE_URL is set. Each run gets an empty database of
// its own, and the subtests run in parallel.
func Each(t *testing.T, fn func(t *testing.T, b Backend)) {
	t.Helper()

	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, Backend{Name: "sqlite", URL: SQLiteURL(t)})
	})

	if os.Getenv(EnvURL) == "" {
		return
	}

	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		fn(t, Backend{Name: "postgres", URL: Empty(t).URL})
	})
}
