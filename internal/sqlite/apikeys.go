package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"

	"github.com/heraldhq/herald/internal/auth"
)

// CreateFirstAPIKey stores key when the database holds no API key yet and
// reports whether it did. The transaction takes the write lock when it
// begins, so callers racing to do so are serialized and at most one first
// key is ever stored.
func (s *Store) CreateFirstAPIKey(ctx context.Context, key auth.Key) (bool, error) {
	const query = `INSERT INTO api_keys (id, name, hash, created_at)
		SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM api_keys)`

	var created bool

	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, key.ID, key.Name, key.Hash[:], micros(key.CreatedAt))
		if err != nil {
			return fmt.Errorf("insert api key: %w", err)
		}

		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("insert api key: %w", err)
		}

		created = n == 1

		return nil
	})

	return created, err
}

// APIKeyHashes returns the hashes of every stored API key, oldest first.
func (s *Store) APIKeyHashes(ctx context.Context) ([][sha256.Size]byte, error) {
	const query = "SELECT hash FROM api_keys ORDER BY created_at, id"

	hashes, err := queryAll(ctx, s.db, scanHash, query)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}

	return hashes, nil
}

func scanHash(row scanner) ([sha256.Size]byte, error) {
	var (
		b    []byte
		hash [sha256.Size]byte
	)

	if err := row.Scan(&b); err != nil {
		return hash, err
	}

	if len(b) != sha256.Size {
		return hash, fmt.Errorf("api key hash has %d bytes", len(b))
	}

	copy(hash[:], b)

	return hash, nil
}
