package signing

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

var (
	// ErrInvalidSignature is returned by [Verify] when no v1 entry of the
	// header matches the message.
	ErrInvalidSignature = errors.New("signing: invalid signature")

	// ErrTimestampOutOfRange is returned by [Verify] when the message
	// timestamp is further from the current time than the tolerance allows.
	ErrTimestampOutOfRange = errors.New("signing: timestamp out of range")
)

// DefaultTolerance is how far a message timestamp may be from the current
// time when [Verify] is given no tolerance.
const DefaultTolerance = 5 * time.Minute

const (
	// version starts each signature entry in the header.
	version = "v1"

	// sigLen is the length of a SHA-256 MAC in padded base64.
	sigLen = 44

	// entryLen is the length of one header entry: "v1," and a signature.
	entryLen = len(version) + 1 + sigLen

	// prefixCap bytes at the front of the scratch buffer hold the message
	// ID and timestamp; the rest holds one MAC.
	prefixCap  = 96
	scratchLen = prefixCap + sha256.Size
)

// Sign returns the value of the webhook-signature header for one message:
// one entry per secret, in the order given, separated by single spaces.
// Each entry is "v1," followed by the base64 HMAC-SHA256, keyed with the
// secret, of msgID, ts in Unix seconds and body, joined by dots. During a
// secret rotation a webhook carries a signature for each valid secret.
//
// Sign returns "" when given no secrets.
func Sign(msgID string, ts time.Time, body []byte, secrets ...Secret) string {
	if len(secrets) == 0 {
		return ""
	}

	var (
		scratch     [scratchLen]byte
		prefix, sum = splitScratch(&scratch, msgID, ts)
		b           strings.Builder
	)
	b.Grow(len(secrets)*(entryLen+1) - 1)

	for i, s := range secrets {
		if i > 0 {
			b.WriteByte(' ')
		}
		sig := s.sign(prefix, body, sum)
		b.WriteString(version + ",")
		b.Write(sig[:])
	}

	return b.String()
}

// Verify checks the value of a webhook-signature header against one secret.
// It accepts the message when any space-separated "v1," entry matches,
// ignoring entries of other versions, and returns an error wrapping
// [ErrInvalidSignature] otherwise.
//
// Verify first refuses, with an error wrapping [ErrTimestampOutOfRange], a
// timestamp ts more than tolerance before or after now. A tolerance of
// zero or less means [DefaultTolerance]. It refuses an empty secret, with
// which anyone could sign, with an error wrapping [ErrInvalidSecret].
func Verify(
	secret Secret,
	msgID string,
	ts time.Time,
	body []byte,
	header string,
	now time.Time,
	tolerance time.Duration,
) error {
	if len(secret) == 0 {
		return fmt.Errorf("%w: is empty", ErrInvalidSecret)
	}
	if err := checkTimestamp(ts, now, tolerance); err != nil {
		return err
	}

	var (
		scratch     [scratchLen]byte
		prefix, sum = splitScratch(&scratch, msgID, ts)
		want        = secret.sign(prefix, body, sum)
	)
	for entry := range strings.SplitSeq(header, " ") {
		v, sig, ok := strings.Cut(entry, ",")
		if ok && v == version && hmac.Equal([]byte(sig), want[:]) {
			return nil
		}
	}

	return ErrInvalidSignature
}

// checkTimestamp returns an error wrapping ErrTimestampOutOfRange when ts
// is more than tolerance away from now.
func checkTimestamp(ts, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}

	switch d := now.Sub(ts); {
	case d > tolerance:
		return fmt.Errorf("%w: more than %v old", ErrTimestampOutOfRange, tolerance)
	case d < -tolerance:
		return fmt.Errorf("%w: more than %v ahead", ErrTimestampOutOfRange, tolerance)
	}

	return nil
}

// splitScratch writes the start of the signed content, msgID and ts in
// Unix seconds each followed by a dot, to the front of scratch, and returns
// it with an empty slice that has room for one MAC at the back.
//
// The MAC's methods are interface calls, so scratch escapes to the heap;
// sharing one array between the prefix and every MAC of a call makes that a
// single allocation. A message ID too long for the front of scratch gets a
// buffer of its own.
func splitScratch(scratch *[scratchLen]byte, msgID string, ts time.Time) (prefix, sum []byte) {
	prefix = append(scratch[:0:prefixCap], msgID...) //nolint:gocritic // appendAssign: builds prefix in scratch
	prefix = append(prefix, '.')
	prefix = strconv.AppendInt(prefix, ts.Unix(), 10)
	prefix = append(prefix, '.')

	return prefix, scratch[prefixCap:prefixCap]
}

// sign returns the base64 HMAC-SHA256, keyed with s, of prefix and body.
// It writes the MAC into sum, which must have room for it.
func (s Secret) sign(prefix, body, sum []byte) [sigLen]byte {
	mac := hmac.New(sha256.New, s)
	mac.Write(prefix)
	mac.Write(body)

	var sig [sigLen]byte
	base64.StdEncoding.Encode(sig[:], mac.Sum(sum))

	return sig
}
