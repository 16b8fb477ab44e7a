package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/auth"
)

// CreateSession stores the console session se.
func (s *Store) CreateSession(ctx context.Context, se auth.Session) error {
	const query = `INSERT INTO console_sessions (token_hash, key_hash, created_at, expires_at)
		VALUES (?, ?, ?, ?)`

	_, err := s.db.ExecContext(ctx, query,
		se.TokenHash[:], se.KeyHash[:], micros(se.CreatedAt), micros(se.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}

	return nil
}

// GetSession returns the session whose token has the hash tokenHash, or
// [auth.ErrSessionNotFound] when there is none or it expired at now.
func (s *Store) GetSession(
	ctx context.Context, tokenHash [sha256.Size]byte, now time.Time,
) (auth.Session, error) {
	const query = `SELECT key_hash, created_at, expires_at FROM console_sessions
		WHERE token_hash = ? AND expires_at > ?`

	var (
		se      = auth.Session{TokenHash: tokenHash}
		keyHash []byte
	)

	err := s.db.QueryRowContext(ctx, query, tokenHash[:], micros(now)).Scan(
		&keyHash, timeColumn{&se.CreatedAt}, timeColumn{&se.ExpiresAt})
	if errors.Is(err, sql.ErrNoRows) {
		return auth.Session{}, auth.ErrSessionNotFound
	}

	if err != nil {
		return auth.Session{}, fmt.Errorf("get session: %w", err)
	}

	if len(keyHash) != sha256.Size {
		return auth.Session{}, fmt.Errorf("get session: key hash has %d bytes", len(keyHash))
	}

	copy(se.KeyHash[:], keyHash)

	return se, nil
}

// DeleteSession deletes the session whose token has the hash tokenHash.
// An unknown session is no error: it is gone either way.
func (s *Store) DeleteSession(ctx context.Context, tokenHash [sha256.Size]byte) error {
	const query = "DELETE FROM console_sessions WHERE token_hash = ?"

	if _, err := s.db.ExecContext(ctx, query, tokenHash[:]); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}

	return nil
}
