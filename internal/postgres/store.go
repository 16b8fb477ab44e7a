// Package postgres stores Herald's resources in PostgreSQL through pgx.
package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/heraldhq/herald/internal/messages"
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

// lockTimeout bounds how long a statement that writes the rows of many
// messages or deliveries at once waits for a row lock. Such a batch is the
// work of many callers, and one tenant or endpoint being deleted must not
// hold them all: past this, the batch fails with [messages.ErrLocked] and
// its callers' rows are written again, each alone.
const lockTimeout = "SET LOCAL lock_timeout = '200ms'"

// locked returns [messages.ErrLocked] when err is PostgreSQL giving up on
// a lock within lockTimeout, and err otherwise.
func locked(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "55P03" {
		return fmt.Errorf("%w: %s", messages.ErrLocked, pgErr.Message)
	}

	return err
}

// isForeignKeyViolation reports whether err is PostgreSQL refusing a row
// whose referenced row does not exist.
func isForeignKeyViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23503"
}

var _ store.Store = (*Store)(nil)
