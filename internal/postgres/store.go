// Package postgres stores Herald's resources in PostgreSQL through pgx.
package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/heraldhq/herald/internal/store"
)

// Store reads and writes Herald's resources. It is safe for concurrent use.
type Store struct {
	pool    *pgxpool.Pool
	enqueue Enqueuer
}

// New returns a Store on pool. The caller keeps ownership of pool.
func New(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool}
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}

	return nil
}

// inTx runs fn in a transaction, committed when fn returns nil and rolled
// back otherwise.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	if err := pgx.BeginFunc(ctx, s.pool, fn); err != nil {
		return err //nolint:wrapcheck // fn's errors are already wrapped
	}

	return nil
}

// isForeignKeyViolation reports whether err is PostgreSQL refusing a row
// whose referenced row does not exist.
func isForeignKeyViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23503"
}

var _ store.Store = (*Store)(nil)
