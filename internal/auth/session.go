package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
)

// ErrSessionNotFound is returned for a session token that is unknown or
// expired.
var ErrSessionNotFound = errors.New("auth: session not found")

// Session is a stored console session: the hash of its token, never the
// token itself, and the hash of the API key that signed in.
type Session struct {
	TokenHash [sha256.Size]byte
	KeyHash   [sha256.Size]byte
	CreatedAt time.Time
	ExpiresAt time.Time
}

// NewSession makes a session for the key with hash keyHash that lasts ttl.
// It returns the token to hand to the browser and the [Session] to store.
func NewSession(keyHash [sha256.Size]byte, ttl time.Duration) (string, Session, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", Session{}, fmt.Errorf("read random: %w", err)
	}

	token := base64.RawURLEncoding.EncodeToString(raw)
	now := time.Now().UTC().Truncate(time.Microsecond)

	return token, Session{
		TokenHash: Hash(token),
		KeyHash:   keyHash,
		CreatedAt: now,
		ExpiresAt: now.Add(ttl),
	}, nil
}
