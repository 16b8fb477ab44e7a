package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/heraldhq/herald/internal/store"
)

// Store reads and writes Herald's resources. It is safe for concurrent use.
type Store struct {
	db      *sql.DB
	enqueue Enqueuer
}

var _ store.Store = (*Store)(nil)

// New returns a Store on db, a database made by [Open]. The caller keeps
// ownership of db.
func New(db *sql.DB) *Store {
	return &Store{db: db}
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}

	return nil
}

// inTx runs fn in a transaction, committed when fn returns nil and rolled
// back otherwise. fn's error is returned unchanged.
func (s *Store) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}

	defer func() {
		_ = tx.Rollback() // after Commit, a no-op that returns sql.ErrTxDone
	}()

	if err := fn(tx); err != nil {
		return err
	}

	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}

	return nil
}

// querier reads from the database or in a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// scanner is a row to scan: a *sql.Row or the current row of *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// queryAll runs query and returns every row it yields read by scan, an
// empty slice when there is none. The rows are closed before it returns,
// so the connection is free for the next query.
func queryAll[T any](
	ctx context.Context, q querier, scan func(scanner) (T, error), query string, args ...any,
) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()

	out := []T{}

	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}

		out = append(out, v)
	}

	if err := rows.Err(); err != nil {
		return nil, err
	}

	return out, nil
}

// checkLimit refuses a negative page size, which SQLite would read as no
// limit at all and PostgreSQL rejects.
func checkLimit(limit int) error {
	if limit < 0 {
		return fmt.Errorf("limit %d is negative", limit)
	}

	return nil
}

// changedRow returns notFound when res changed no row.
func changedRow(res sql.Result, notFound error) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("count changed rows: %w", err)
	}

	if n == 0 {
		return notFound
	}

	return nil
}
