package storetest

import (
	"crypto/sha256"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/auth"
)

func newAPIKey(t *testing.T) auth.Key {
	t.Helper()

	_, key, err := auth.NewKey("bootstrap")
	require.NoError(t, err)

	return key
}

func (s suite) apiKeys(t *testing.T) {
	t.Parallel()

	t.Run("first key only", s.createFirstAPIKey)
	t.Run("concurrent first keys store one", s.createFirstAPIKeyConcurrently)
}

func (s suite) createFirstAPIKey(t *testing.T) {
	t.Parallel()

	b := s.setup(t)

	hashes, err := b.Store.APIKeyHashes(t.Context())
	require.NoError(t, err)
	require.Empty(t, hashes)

	first := newAPIKey(t)
	created, err := b.Store.CreateFirstAPIKey(t.Context(), first)
	require.NoError(t, err)
	require.True(t, created)

	created, err = b.Store.CreateFirstAPIKey(t.Context(), newAPIKey(t))
	require.NoError(t, err)
	require.False(t, created)

	// The same key again is refused too, and is no error.
	created, err = b.Store.CreateFirstAPIKey(t.Context(), first)
	require.NoError(t, err)
	require.False(t, created)

	hashes, err = b.Store.APIKeyHashes(t.Context())
	require.NoError(t, err)
	require.Equal(t, [][sha256.Size]byte{first.Hash}, hashes)
}

// createFirstAPIKeyConcurrently makes the first key from several
// goroutines at once: exactly one of them stores it.
func (s suite) createFirstAPIKeyConcurrently(t *testing.T) {
	t.Parallel()

	var (
		b       = s.setup(t)
		keys    = make([]auth.Key, 4)
		created = make([]bool, len(keys))
		errs    = make([]error, len(keys))
		start   = make(chan struct{})
		wg      sync.WaitGroup
	)

	for i := range keys {
		keys[i] = newAPIKey(t)

		wg.Go(func() {
			<-start

			created[i], errs[i] = b.Store.CreateFirstAPIKey(t.Context(), keys[i])
		})
	}

	close(start)
	wg.Wait()

	var winners []auth.Key

	for i := range keys {
		require.NoError(t, errs[i])

		if created[i] {
			winners = append(winners, keys[i])
		}
	}

	require.Len(t, winners, 1)

	hashes, err := b.Store.APIKeyHashes(t.Context())
	require.NoError(t, err)
	require.Equal(t, [][sha256.Size]byte{winners[0].Hash}, hashes)
}
