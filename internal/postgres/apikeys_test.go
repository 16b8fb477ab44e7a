package postgres_test

import (
	"crypto/sha256"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/postgres"
	"github.com/heraldhq/herald/internal/testdb"
)

// newAPIKeys returns n new keys, each named "bootstrap".
func newAPIKeys(t *testing.T, n int) []auth.Key {
	t.Helper()

	keys := make([]auth.Key, n)
	for i := range keys {
		var err error

		_, keys[i], err = auth.NewKey("bootstrap")
		require.NoError(t, err)
	}

	return keys
}

// TestCreateFirstAPIKeyAcrossPools makes the first key through stores on
// pools of their own, as processes starting together do: the advisory
// lock lets exactly one of them store its key, id and name included.
func TestCreateFirstAPIKeyAcrossPools(t *testing.T) {
	t.Parallel()

	db := testdb.New(t)

	type racer struct {
		store   *postgres.Store
		key     auth.Key
		created bool
		err     error
	}

	keys := newAPIKeys(t, 4)
	racers := make([]*racer, len(keys))

	for i, key := range keys {
		pool, err := pgxpool.New(t.Context(), db.URL)
		require.NoError(t, err)
		t.Cleanup(pool.Close)

		racers[i] = &racer{store: postgres.New(pool), key: key}
	}

	var (
		start = make(chan struct{})
		wg    sync.WaitGroup
	)

	for _, r := range racers {
		wg.Go(func() {
			<-start

			r.created, r.err = r.store.CreateFirstAPIKey(t.Context(), r.key)
		})
	}

	close(start)
	wg.Wait()

	var stored []auth.Key

	for _, r := range racers {
		require.NoError(t, r.err)

		if r.created {
			stored = append(stored, r.key)
		}
	}

	require.Len(t, stored, 1)

	var id, name string
	require.NoError(t, db.Pool.QueryRow(t.Context(), "SELECT id, name FROM api_keys").Scan(&id, &name))
	require.Equal(t, stored[0].ID, id)
	require.Equal(t, "bootstrap", name)
}

// TestAPIKeyHashesOrderAndCorruption reads back keys stored behind the
// store's back, which makes only the first: oldest first, and a hash of
// the wrong size is an error.
func TestAPIKeyHashesOrderAndCorruption(t *testing.T) {
	t.Parallel()

	b := setup(t)
	keys := newAPIKeys(t, 2)
	first, second := keys[0], keys[1]

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
