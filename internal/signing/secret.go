package signing

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// ErrInvalidSecret is returned, wrapped with a detail such as "must start
// with whsec_", by [ParseSecret] when its input is not a valid secret, and
// by [Verify] when given an empty secret.
var ErrInvalidSecret = errors.New("signing: invalid secret")

var (
	errSecretBase64 = fmt.Errorf("%w: is not valid base64", ErrInvalidSecret)
	errSecretLen    = fmt.Errorf("%w: must decode to %d to %d bytes",
		ErrInvalidSecret, minSecretLen, maxSecretLen)
)

const (
	// secretPrefix starts the text form of every secret.
	secretPrefix = "whsec_"

	// redacted stands in for a secret wherever one is printed or logged.
	redacted = secretPrefix + "[redacted]"

	// newSecretLen is the length in bytes of a key made by NewSecret.
	newSecretLen = 32

	// minSecretLen and maxSecretLen bound the length in bytes of a key
	// accepted by ParseSecret.
	minSecretLen = 24
	maxSecretLen = 64
)

// Secret is a decoded signing secret: the raw HMAC key.
//
// Printing a Secret with any fmt verb, or logging it with log/slog, shows
// "whsec_[redacted]" instead of the key.
type Secret []byte

// NewSecret returns a fresh secret of 32 random bytes.
func NewSecret() (Secret, error) {
	s := make(Secret, newSecretLen)
	if _, err := rand.Read(s); err != nil {
		return nil, fmt.Errorf("read random bytes: %w", err)
	}

	return s, nil
}

// ParseSecret decodes a secret from its text form: "whsec_" followed by 24
// to 64 bytes in standard base64, padded or not. Errors wrap
// [ErrInvalidSecret] and never contain the input.
func ParseSecret(s string) (Secret, error) {
	enc, ok := strings.CutPrefix(s, secretPrefix)
	if !ok {
		return nil, fmt.Errorf("%w: must start with %s", ErrInvalidSecret, secretPrefix)
	}

	// Checking the length first keeps a huge input from being decoded.
	if len(enc) > base64.StdEncoding.EncodedLen(maxSecretLen) {
		return nil, errSecretLen
	}

	// The decoder would skip line breaks, which have no place in a secret.
	if strings.ContainsAny(enc, "\r\n") {
		return nil, errSecretBase64
	}

	key, err := decodeBase64(enc)
	if err != nil {
		return nil, errSecretBase64
	}
	if len(key) < minSecretLen || len(key) > maxSecretLen {
		return nil, errSecretLen
	}

	return Secret(key), nil
}

// decodeBase64 decodes standard base64, with or without padding. It refuses
// an encoding whose unused trailing bits are not zero, so that a key has no
// encoding other than its padded and unpadded forms.
func decodeBase64(s string) ([]byte, error) {
	enc := base64.StdEncoding.Strict()
	if len(s)%4 != 0 {
		enc = base64.RawStdEncoding.Strict()
	}

	return enc.DecodeString(s)
}

// Encode returns the text form of s: "whsec_" followed by the key in
// standard, padded base64. [ParseSecret] reads it back.
func (s Secret) Encode() string {
	return secretPrefix + base64.StdEncoding.EncodeToString(s)
}

// String returns "whsec_[redacted]" so that a secret printed by mistake
// does not reveal its key. Use [Secret.Encode] for the text form.
func (s Secret) String() string {
	return redacted
}

// Format implements [fmt.Formatter], writing "whsec_[redacted]" whatever
// the verb. Without it, verbs such as %d and %#v would print the bytes.
func (s Secret) Format(f fmt.State, verb rune) {
	_, _ = io.WriteString(f, redacted)
}

// LogValue implements [slog.LogValuer], logging the secret as
// "whsec_[redacted]".
func (s Secret) LogValue() slog.Value {
	return slog.StringValue(redacted)
}
