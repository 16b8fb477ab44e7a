package sqlite_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	modernc "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/heraldhq/herald/internal/sqlite"
)

func open(t *testing.T, path string) *sql.DB {
	t.Helper()

	db, err := sqlite.Open(t.Context(), path)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })

	return db
}

// pragma returns the value of the setting name on db's connection.
func pragma(t *testing.T, db *sql.DB, name string) string {
	t.Helper()

	var v string
	require.NoError(t, db.QueryRowContext(t.Context(), "PRAGMA "+name).Scan(&v))

	return v
}

func TestOpenSettings(t *testing.T) {
	t.Parallel()

	db := open(t, filepath.Join(t.TempDir(), "herald.db"))

	require.Equal(t, "wal", pragma(t, db, "journal_mode"))
	require.Equal(t, "1", pragma(t, db, "foreign_keys"))
	require.Equal(t, "1", pragma(t, db, "synchronous"), "NORMAL")
	require.Equal(t, "10000", pragma(t, db, "busy_timeout"))
	require.Equal(t, 1, db.Stats().MaxOpenConnections)
}

// TestOpenPath checks that every character of the file's name is taken as
// part of the name, none as part of the settings.
func TestOpenPath(t *testing.T) {
	t.Parallel()

	path := filepath.Join(t.TempDir(), "a dir", "odd ?name=x#frag%20.db")
	require.NoError(t, os.Mkdir(filepath.Dir(path), 0o700))

	db := open(t, path)
	_, err := db.ExecContext(t.Context(), "CREATE TABLE t (x INTEGER)")
	require.NoError(t, err)

	_, err = os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, "wal", pragma(t, db, "journal_mode"))
}

func TestOpenMissingDirectory(t *testing.T) {
	t.Parallel()

	_, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "missing", "herald.db"))
	require.Error(t, err)
}

// TestTransactionTakesWriteLockAtBegin checks that a transaction holds the
// write lock from BEGIN, before it writes: a second writer on the file is
// refused at once.
func TestTransactionTakesWriteLockAtBegin(t *testing.T) {
	t.Parallel()

	var (
		path  = filepath.Join(t.TempDir(), "herald.db")
		first = open(t, path)
		other = open(t, path)
	)

	tx, err := first.BeginTx(t.Context(), nil)
	require.NoError(t, err)

	conn, err := other.Conn(t.Context())
	require.NoError(t, err)

	defer conn.Close()

	_, err = conn.ExecContext(t.Context(), "PRAGMA busy_timeout = 0")
	require.NoError(t, err)

	_, err = conn.BeginTx(t.Context(), nil)

	var liteErr *modernc.Error
	require.ErrorAs(t, err, &liteErr)
	require.Equal(t, sqlite3.SQLITE_BUSY, liteErr.Code())

	require.NoError(t, tx.Rollback())

	tx2, err := conn.BeginTx(t.Context(), nil)
	require.NoError(t, err)
	require.NoError(t, tx2.Rollback())
}
