package postgres

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/internal/auth"
)

// CreateSession stores se. It also deletes the sessions expired by the
// time se was created, so that the table keeps only live ones; signing in
// is rare, so the cost is paid seldom.
func (s *Store) CreateSession(ctx context.Context, se auth.Session) error {
	const query = `WITH expired AS (
			DELETE FROM console_sessions WHERE expires_at < $3
		)
		INSERT INTO console_sessions (token_hash, key_hash, created_at, expires_at)
		VALUES ($1, $2, $3, $4)`

	_, err := s.pool.Exec(ctx, query, se.TokenHash[:], se.KeyHash[:], se.CreatedAt, se.ExpiresAt)
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}

	return nil
}

// GetSession returns the session whose token has the hash tokenHash, or
// [auth.ErrSessionNotFound] when there is none or it expired at now.
func (s *Store) GetSession(ctx context.Context, tokenHash [sha256.Size]byte, now time.Time) (auth.Session, error) {
	const query = `SELECT key_hash, created_at, expires_at FROM console_sessions
		WHERE token_hash = $1 AND expires_at > $2`

	var (
		se      = auth.Session{TokenHash: tokenHash}
		keyHash []byte
	)

	err := s.pool.QueryRow(ctx, query, tokenHash[:], now).Scan(&keyHash, &se.CreatedAt, &se.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.Session{}, auth.ErrSessionNotFound
	}

	if err != nil {
		return auth.Session{}, fmt.Errorf("get session: %w", err)
	}

	if len(keyHash) != sha256.Size {
		return auth.Session{}, fmt.Errorf("get session: key hash has %d bytes", len(keyHash))
	}

	copy(se.KeyHash[:], keyHash)
	se.CreatedAt, se.ExpiresAt = se.CreatedAt.UTC(), se.ExpiresAt.UTC()

	return se, nil
}

// DeleteSession deletes the session whose token has the hash tokenHash. A
// missing session is no error: it is gone either way.
func (s *Store) DeleteSession(ctx context.Context, tokenHash [sha256.Size]byte) error {
	if _, err := s.pool.Exec(ctx, "DELETE FROM console_sessions WHERE token_hash = $1", tokenHash[:]); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}

	return nil
}
