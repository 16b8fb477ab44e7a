// Package auth makes and checks Herald's API keys. A key is shown once, when
// it is made; only its SHA-256 hash is stored, and a presented key is
// compared with the known hashes in constant time.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"go.jetify.com/typeid"
)

// keyPrefix starts every key Herald makes, so that secret scanners and
// people can tell a Herald key at sight.
const keyPrefix = "hk_"

// Key is a stored API key: its hash, never the key itself.
type Key struct {
	ID        string
	Name      string
	Hash      [sha256.Size]byte
	CreatedAt time.Time
}

// NewKey makes a key named name from 32 random bytes. It returns the key to
// show once and the [Key] to store.
func NewKey(name string) (string, Key, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", Key{}, fmt.Errorf("read random: %w", err)
	}

	id, err := typeid.WithPrefix("key")
	if err != nil {
		return "", Key{}, fmt.Errorf("new key id: %w", err)
	}

	plain := keyPrefix + base64.RawURLEncoding.EncodeToString(raw)
	key := Key{
		ID:        id.String(),
		Name:      name,
		Hash:      Hash(plain),
		CreatedAt: time.Now().UTC().Truncate(time.Microsecond),
	}

	return plain, key, nil
}

// Hash returns the SHA-256 of a key. Keys are long and random, so a plain
// hash is enough: there is nothing to guess that a slow hash would protect.
func Hash(key string) [sha256.Size]byte {
	return sha256.Sum256([]byte(key))
}

// Keyring holds the hashes of the keys that may call the API.
// It is read-only once built and safe for concurrent use.
type Keyring struct {
	hashes [][sha256.Size]byte
}

// NewKeyring returns a keyring accepting the keys with these hashes.
func NewKeyring(hashes ...[sha256.Size]byte) *Keyring {
	return &Keyring{hashes: hashes}
}

// Len returns how many keys the keyring accepts.
func (k *Keyring) Len() int {
	return len(k.hashes)
}

// Accepts reports whether key is one of the keyring's. Every hash is
// compared in constant time, and all of them are compared whatever matches,
// so the time taken tells nothing of which key matched or how closely.
func (k *Keyring) Accepts(key string) bool {
	if key == "" {
		return false
	}

	return k.AcceptsHash(Hash(key))
}

// AcceptsHash reports whether the key with hash sum is one of the
// keyring's, comparing in constant time as [Keyring.Accepts] does.
func (k *Keyring) AcceptsHash(sum [sha256.Size]byte) bool {
	match := 0

	for i := range k.hashes {
		match |= subtle.ConstantTimeCompare(sum[:], k.hashes[i][:])
	}

	return match == 1
}

// Fingerprint names the key with hash sum in records of who did what, such
// as "key:3f2a9c1d0e4b". It shows a few bytes of the hash, which tell
// nothing of the key.
func Fingerprint(sum [sha256.Size]byte) string {
	return "key:" + hex.EncodeToString(sum[:6])
}

// BearerToken returns the token of an Authorization header value of the
// form "Bearer <token>", and false when the value has another form.
func BearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}

	token = strings.TrimSpace(token)

	return token, token != ""
}
