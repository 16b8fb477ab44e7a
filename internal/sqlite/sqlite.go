// Package sqlite stores Herald's resources in one SQLite file, through the
// pure Go driver modernc.org/sqlite, so that Herald runs without a database
// server. It keeps the same contract as the postgres package.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// busyTimeout is how long, in milliseconds, a connection waits for a lock
// held by another before it gives up with SQLITE_BUSY. Only tools reading
// the file beside Herald, such as the sqlite3 shell, hold one.
const busyTimeout = "10000"

// Open opens the SQLite database at path, creating the file if need be, and
// checks that it answers. The caller closes the returned database.
//
// Every connection is set up by the DSN:
//
//   - journal_mode(WAL) lets readers go on while one writer writes, and
//     makes a commit one append to the log;
//   - synchronous(NORMAL) syncs the log at checkpoints rather than at every
//     commit, which WAL makes safe: a power loss can undo the last commits
//     but never corrupt the file;
//   - foreign_keys(1) enforces the schema's foreign keys and their cascades,
//     which SQLite otherwise ignores;
//   - busy_timeout waits for locks instead of failing at once;
//   - _txlock=immediate starts every transaction with BEGIN IMMEDIATE, which
//     takes the write lock at once: a transaction that read under a shared
//     lock and then wrote could fail with SQLITE_BUSY halfway.
//
// The database holds a single connection, as River advises for SQLite:
// SQLite has one writer at a time anyway, and queueing for the connection in
// Go costs less than contending for the file lock. It follows that a
// transaction must run every one of its queries through its *sql.Tx: a query
// on the *sql.DB would wait for ever for the connection the transaction
// holds.
func Open(ctx context.Context, path string) (*sql.DB, error) {
	dsn, err := dsn(path)
	if err != nil {
		return nil, err
	}

	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}

	db.SetMaxOpenConns(1)

	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}

	return db, nil
}

// dsn returns the data source name of the file at path: a file: URI of its
// absolute path, escaped so that no character of the name is read as part
// of the query, followed by the settings [Open] documents.
func dsn(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("open %s: %w", path, err)
	}

	query := url.Values{
		"_pragma": {
			"busy_timeout(" + busyTimeout + ")",
			"foreign_keys(1)",
			"journal_mode(WAL)",
			"synchronous(NORMAL)",
		},
		"_txlock": {"immediate"},
	}

	u := url.URL{Path: filepath.ToSlash(abs)}

	return "file:" + u.EscapedPath() + "?" + query.Encode(), nil
}

// isForeignKeyViolation reports whether err is SQLite refusing a row whose
// referenced row does not exist.
func isForeignKeyViolation(err error) bool {
	var liteErr *sqlite.Error
	return errors.As(err, &liteErr) && liteErr.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}
