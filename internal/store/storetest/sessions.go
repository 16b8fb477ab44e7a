package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/auth"
)

func (s suite) sessions(t *testing.T) {
	t.Parallel()

	t.Run("create then get", s.getSession)
	t.Run("expired", s.getSessionExpired)
	t.Run("unknown token", s.getSessionUnknown)
	t.Run("delete", s.deleteSession)
	t.Run("create keeps the live sessions", s.createSessionKeepsLive)
}

// newSession returns a session of a fresh key that lasts ttl, and its
// token.
func newSession(t *testing.T, ttl time.Duration) (string, auth.Session) {
	t.Helper()

	_, key, err := auth.NewKey("console")
	require.NoError(t, err)

	token, se, err := auth.NewSession(key.Hash, ttl)
	require.NoError(t, err)

	return token, se
}

// createSession stores a new session that lasts ttl, and returns it and
// its token.
func (b *bundle) createSession(t *testing.T, ttl time.Duration) (string, auth.Session) {
	t.Helper()

	token, se := newSession(t, ttl)
	require.NoError(t, b.Store.CreateSession(t.Context(), se))

	return token, se
}

// requireSession checks that the token opens session want at now.
func (b *bundle) requireSession(t *testing.T, token string, now time.Time, want auth.Session) {
	t.Helper()

	got, err := b.Store.GetSession(t.Context(), auth.Hash(token), now)
	require.NoError(t, err)
	require.Equal(t, want, got)
}

// requireNoSession checks that the token opens no session at now.
func (b *bundle) requireNoSession(t *testing.T, token string, now time.Time) {
	t.Helper()

	got, err := b.Store.GetSession(t.Context(), auth.Hash(token), now)
	require.ErrorIs(t, err, auth.ErrSessionNotFound)
	require.Equal(t, auth.Session{}, got)
}

func (s suite) getSession(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	token, se := b.createSession(t, time.Hour)
	b.requireSession(t, token, time.Now(), se)

	// Two sessions of one key are told apart by their tokens.
	token2, se2, err := auth.NewSession(se.KeyHash, 2*time.Hour)
	require.NoError(t, err)
	require.NoError(t, b.Store.CreateSession(t.Context(), se2))

	b.requireSession(t, token2, time.Now(), se2)
	b.requireSession(t, token, time.Now(), se)
}

// getSessionExpired reads a session at the moment it expires and after:
// it is gone, though it was there a microsecond before.
func (s suite) getSessionExpired(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	token, se := b.createSession(t, time.Hour)

	b.requireSession(t, token, se.ExpiresAt.Add(-time.Microsecond), se)
	b.requireNoSession(t, token, se.ExpiresAt)
	b.requireNoSession(t, token, se.ExpiresAt.Add(time.Hour))
}

func (s suite) getSessionUnknown(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	token, _ := b.createSession(t, time.Hour)

	b.requireNoSession(t, token+"x", time.Now())
	b.requireNoSession(t, "", time.Now())
}

// deleteSession signs out: the session is gone, others stay, and deleting
// it again or one never stored is no error.
func (s suite) deleteSession(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	token, se := b.createSession(t, time.Hour)
	kept, keptSession := b.createSession(t, time.Hour)

	require.NoError(t, b.Store.DeleteSession(t.Context(), se.TokenHash))
	b.requireNoSession(t, token, time.Now())
	b.requireSession(t, kept, time.Now(), keptSession)

	require.NoError(t, b.Store.DeleteSession(t.Context(), se.TokenHash))
	require.NoError(t, b.Store.DeleteSession(t.Context(), auth.Hash("never stored")))
	b.requireSession(t, kept, time.Now(), keptSession)
}

// createSessionKeepsLive creates a session after others expired: the
// sessions still live stay.
func (s suite) createSessionKeepsLive(t *testing.T) {
	t.Parallel()

	b := s.setup(t)

	expired, old := newSession(t, time.Hour)
	old.CreatedAt = old.CreatedAt.Add(-2 * time.Hour)
	old.ExpiresAt = old.ExpiresAt.Add(-2 * time.Hour)
	require.NoError(t, b.Store.CreateSession(t.Context(), old))

	live, liveSession := b.createSession(t, time.Minute)
	token, se := b.createSession(t, time.Hour)

	b.requireSession(t, live, time.Now(), liveSession)
	b.requireSession(t, token, time.Now(), se)
	b.requireNoSession(t, expired, time.Now())
}
