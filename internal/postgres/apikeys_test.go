package postgres_test

import (
	"crypto/sha256"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/auth"
)

func newAPIKey(t *testing.T) auth.Key {
	t.Helper()

	_, key, err := auth.NewKey("bootstrap")
	require.NoError(t, err)

	return key
}

func TestCreateFirstAPIKey(t *testing.T) {
	t.Parallel()

	b := setup(t)

	hashes, err := b.store.APIKeyHashes(t.Context())
	require.NoError(t, err)
	require.Empty(t, hashes)

	first := newAPIKey(t)
	created, err := b.store.CreateFirstAPIKey(t.Context(), first)
	require.NoError(t, err)
	require.True(t, created)

	created, err = b.store.CreateFirstAPIKey(t.Context(), newAPIKey(t))
	require.NoError(t, err)
	require.False(t, created)

	// The same key again is refused too, without a unique violation.
	created, err = b.store.CreateFirstAPIKey(t.Context(), first)
	require.NoError(t, err)
	require.False(t, created)

	hashes, err = b.store.APIKeyHashes(t.Context())
	require.NoError(t, err)
	require.Equal(t, [][sha256.Size]byte{first.Hash}, hashes)

	var (
		name string
		id   string
	)

	require.NoError(t, b.db.Pool.QueryRow(t.Context(), "SELECT id, name FROM api_keys").Scan(&id, &name))
	require.Equal(t, first.ID, id)
	require.Equal(t, "bootstrap", name)
}

func TestCreateFirstAPIKeyConcurrent(t *testing.T) {
	t.Parallel()

	b := setup(t)

	var (
		keys    = make([]auth.Key, 4)
		created = make([]bool, len(keys))
		errs    = make([]error, len(keys))
		wg      sync.WaitGroup
	)

	for i := range keys {
		keys[i] = newAPIKey(t)
		wg.Go(func() { created[i], errs[i] = b.store.CreateFirstAPIKey(t.Context(), keys[i]) })
	}

	wg.Wait()

	var winner []auth.Key

	for i := range keys {
		require.NoError(t, errs[i])

		if created[i] {
			winner = append(winner, keys[i])
		}
	}

	require.Len(t, winner, 1)

	hashes, err := b.store.APIKeyHashes(t.Context())
	require.NoError(t, err)
	require.Equal(t, [][sha256.Size]byte{winner[0].Hash}, hashes)
}

func TestAPIKeyHashesOrderAndCorruption(t *testing.T) {
	t.Parallel()

	b := setup(t)
	first, second := newAPIKey(t), newAPIKey(t)

	// Insert the later key first: the order is by creation time.
	second.CreatedAt = first.CreatedAt.Add(time.Second)
	for _, k := range []auth.Key{second, first} {
		_, err := b.db.Pool.Exec(t.Context(), "INSERT INTO api_keys (id, name, hash, created_at) VALUES ($1, $2, $3, $4)",
			k.ID, k.Name, k.Hash[:], k.CreatedAt)
		require.NoError(t, err)
	}

	hashes, err := b.store.APIKeyHashes(t.Context())
	require.NoError(t, err)
	require.Equal(t, [][sha256.Size]byte{first.Hash, second.Hash}, hashes)

	_, err = b.db.Pool.Exec(t.Context(), `INSERT INTO api_keys (id, name, hash, created_at)
		VALUES ('key_short', 'short', '\x0102', now())`)
	require.NoError(t, err)

	_, err = b.store.APIKeyHashes(t.Context())
	require.ErrorContains(t, err, "api key hash has 2 bytes")
}
