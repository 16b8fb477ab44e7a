package sqlite_test

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/auth"
)

func TestCreateFirstAPIKey(t *testing.T) {
	t.Parallel()

	b := setup(t)

	hashes, err := b.store.APIKeyHashes(t.Context())
	require.NoError(t, err)
	require.Equal(t, [][sha256.Size]byte{}, hashes)

	_, first, err := auth.NewKey("bootstrap")
	require.NoError(t, err)

	_, second, err := auth.NewKey("second")
	require.NoError(t, err)

	second.CreatedAt = first.CreatedAt.Add(-time.Hour)

	created, err := b.store.CreateFirstAPIKey(t.Context(), first)
	require.NoError(t, err)
	require.True(t, created)

	created, err = b.store.CreateFirstAPIKey(t.Context(), second)
	require.NoError(t, err)
	require.False(t, created)

	hashes, err = b.store.APIKeyHashes(t.Context())
	require.NoError(t, err)
	require.Equal(t, [][sha256.Size]byte{first.Hash}, hashes)
}
