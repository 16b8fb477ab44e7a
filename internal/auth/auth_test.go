package auth_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.jetify.com/typeid"

	"github.com/heraldhq/herald/internal/auth"
)

func TestNewKey(t *testing.T) {
	t.Parallel()

	before := time.Now().UTC().Truncate(time.Microsecond)

	plain, key, err := auth.NewKey("deploy")
	require.NoError(t, err)

	raw, ok := strings.CutPrefix(plain, "hk_")
	require.True(t, ok, plain)

	decoded, err := base64.RawURLEncoding.DecodeString(raw)
	require.NoError(t, err)
	require.Len(t, decoded, 32)

	require.Equal(t, "deploy", key.Name)
	require.Equal(t, auth.Hash(plain), key.Hash)
	require.Equal(t, sha256.Sum256([]byte(plain)), key.Hash)

	id, err := typeid.FromString(key.ID)
	require.NoError(t, err)
	require.Equal(t, "key", id.Prefix())

	require.Equal(t, time.UTC, key.CreatedAt.Location())
	require.Equal(t, key.CreatedAt, key.CreatedAt.Truncate(time.Microsecond))
	require.False(t, key.CreatedAt.Before(before))
	require.False(t, key.CreatedAt.After(time.Now()))
}

func TestNewKeyDiffers(t *testing.T) {
	t.Parallel()

	plainA, keyA, err := auth.NewKey("a")
	require.NoError(t, err)

	plainB, keyB, err := auth.NewKey("a")
	require.NoError(t, err)

	require.NotEqual(t, plainA, plainB)
	require.NotEqual(t, keyA.ID, keyB.ID)
	require.NotEqual(t, keyA.Hash, keyB.Hash)
}

func TestHash(t *testing.T) {
	t.Parallel()

	// sha256("hk_test") computed independently with sha256sum.
	const want = "63ef7dbe87637cad24f00e2c33091e3600a403b2641eca95c1ba2593270afc44"

	got := auth.Hash("hk_test")
	require.Equal(t, want, hex.EncodeToString(got[:]))
	require.NotEqual(t, got, auth.Hash("hk_tesT"))
}

func TestKeyringAccepts(t *testing.T) {
	t.Parallel()

	var (
		first  = newKey(t)
		second = newKey(t)
		third  = newKey(t)
		other  = newKey(t)
	)

	one := auth.NewKeyring(auth.Hash(first))
	several := auth.NewKeyring(auth.Hash(first), auth.Hash(second), auth.Hash(third))
	empty := auth.NewKeyring()

	tests := []struct {
		name    string
		keyring *auth.Keyring
		key     string
		want    bool
	}{
		{name: "right key", keyring: one, key: first, want: true},
		{name: "wrong key", keyring: one, key: other},
		{name: "empty key", keyring: one, key: ""},
		{name: "key with a trailing space", keyring: one, key: first + " "},
		{name: "truncated key", keyring: one, key: first[:len(first)-1]},
		{name: "hash instead of key", keyring: one, key: string(hashOf(first))},
		{name: "first of several", keyring: several, key: first, want: true},
		{name: "middle of several", keyring: several, key: second, want: true},
		{name: "last of several", keyring: several, key: third, want: true},
		{name: "none of several", keyring: several, key: other},
		{name: "empty keyring", keyring: empty, key: first},
		{name: "empty keyring, empty key", keyring: empty, key: ""},
		{name: "hash of the empty key is not accepted", keyring: auth.NewKeyring(auth.Hash("")), key: ""},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			require.Equal(t, tt.want, tt.keyring.Accepts(tt.key))
		})
	}
}

func TestKeyringLen(t *testing.T) {
	t.Parallel()

	require.Zero(t, auth.NewKeyring().Len())
	require.Equal(t, 2, auth.NewKeyring(auth.Hash("a"), auth.Hash("b")).Len())
}

func TestBearerToken(t *testing.T) {
	t.Parallel()

	tests := []struct {
		header string
		token  string // empty when the header has no bearer token
	}{
		{header: "Bearer hk_abc", token: "hk_abc"},
		{header: "bearer hk_abc", token: "hk_abc"},
		{header: "BEARER hk_abc", token: "hk_abc"},
		{header: "BeArEr hk_abc", token: "hk_abc"},
		{header: "Bearer   hk_abc  ", token: "hk_abc"},
		{header: "Bearer hk_abc\t", token: "hk_abc"},
		{header: ""},
		{header: "Bearer"},
		{header: "Bearer "},
		{header: "Bearer    "},
		{header: "hk_abc"},
		{header: "Basic aGVyYWxkOnNlY3JldA=="},
		{header: "Bearerhk_abc"},
		{header: "Token hk_abc"},
		{header: "Bearer\thk_abc"},
		{header: "Bearer: hk_abc"},
	}

	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			t.Parallel()

			token, ok := auth.BearerToken(tt.header)
			require.Equal(t, tt.token, token)
			require.Equal(t, tt.token != "", ok)
		})
	}
}

// TestBearerTokenRoundTrip checks that a key made by NewKey, sent as a
// bearer token, is accepted by a keyring holding its hash.
func TestBearerTokenRoundTrip(t *testing.T) {
	t.Parallel()

	plain, key, err := auth.NewKey("ci")
	require.NoError(t, err)

	token, ok := auth.BearerToken("Bearer " + plain)
	require.True(t, ok)
	require.True(t, auth.NewKeyring(key.Hash).Accepts(token))
}

func FuzzBearerToken(f *testing.F) {
	for _, seed := range []string{"Bearer hk_abc", "bearer  x ", "Basic x", "", "Bearer"} {
		f.Add(seed)
	}

	f.Fuzz(func(t *testing.T, header string) {
		token, ok := auth.BearerToken(header)
		if !ok {
			require.Empty(t, token)

			return
		}

		require.NotEmpty(t, token)
		require.Equal(t, strings.TrimSpace(token), token)
		require.True(t, strings.EqualFold(header[:len("Bearer ")], "Bearer "), header)
	})
}

func newKey(t *testing.T) string {
	t.Helper()

	plain, _, err := auth.NewKey("test")
	require.NoError(t, err)

	return plain
}

func hashOf(key string) []byte {
	h := auth.Hash(key)

	return h[:]
}
