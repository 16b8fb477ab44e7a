package postgres

import (
	"context"
	"crypto/sha256"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/internal/auth"
)

// CreateFirstAPIKey stores key when the database holds no API key yet and
// reports whether it did. Processes racing to do so are serialized, so at
// most one first key is ever stored.
func (s *Store) CreateFirstAPIKey(ctx context.Context, key auth.Key) (bool, error) {
	var created bool

	err := s.inTx(ctx, func(tx pgx.Tx) error {
		const lock = "SELECT pg_advisory_xact_lock(hashtext('herald.api_keys.' || current_schema()))"
		if _, err := tx.Exec(ctx, lock); err != nil {
			return fmt.Errorf("lock api keys: %w", err)
		}

		tag, err := tx.Exec(ctx, `
			INSERT INTO api_keys (id, name, hash, created_at)
			SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM api_keys)`,
			key.ID, key.Name, key.Hash[:], key.CreatedAt)
		if err != nil {
			return fmt.Errorf("insert api key: %w", err)
		}

		created = tag.RowsAffected() == 1

		return nil
	})

	return created, err
}

// APIKeyHashes returns the hashes of every stored API key.
func (s *Store) APIKeyHashes(ctx context.Context) ([][sha256.Size]byte, error) {
	rows, err := s.pool.Query(ctx, "SELECT hash FROM api_keys ORDER BY created_at")
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}

	hashes, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) ([sha256.Size]byte, error) {
		var (
			b    []byte
			hash [sha256.Size]byte
		)

		if err := row.Scan(&b); err != nil {
			return hash, err //nolint:wrapcheck // wrapped below
		}

		if len(b) != sha256.Size {
			return hash, fmt.Errorf("api key hash has %d bytes", len(b))
		}

		copy(hash[:], b)

		return hash, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}

	return hashes, nil
}
