package messages

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"time"

	"go.jetify.com/typeid"
)

// attemptIDPrefix starts every attempt id.
const attemptIDPrefix = "atm"

// IDAt returns the smallest id with prefix that an object made at t can
// have. Herald's ids hold their creation time in their first bits (they are
// UUIDv7), so an id range stands for a time range and an index on ids
// serves a time window. t is taken to the millisecond, clamped to the
// range an id can hold.
func IDAt(prefix string, t time.Time) string {
	id, err := typeid.FromUUIDBytesWithPrefix(prefix, uuidAt(t, nil))
	if err != nil {
		// Only an invalid prefix fails, and callers pass constants.
		panic(fmt.Sprintf("messages: id at %v: %v", t, err))
	}

	return id.String()
}

// NewAttemptID returns a fresh id for an attempt that started at t, so that
// the id places the attempt at its start.
func NewAttemptID(t time.Time) (string, error) {
	random := make([]byte, 10)
	if _, err := rand.Read(random); err != nil {
		return "", fmt.Errorf("new attempt id: %w", err)
	}

	id, err := typeid.FromUUIDBytesWithPrefix(attemptIDPrefix, uuidAt(t, random))
	if err != nil {
		return "", fmt.Errorf("new attempt id: %w", err)
	}

	return id.String(), nil
}

// uuidAt returns the UUIDv7 of time t with the 74 bits of random, or with
// zeros when random is nil.
func uuidAt(t time.Time, random []byte) []byte {
	ms := min(max(t.UnixMilli(), 0), 1<<48-1)

	uuid := make([]byte, 16)
	binary.BigEndian.PutUint64(uuid[:8], uint64(ms)<<16)
	copy(uuid[6:], random)

	uuid[6] = 0x70 | uuid[6]&0x0f // version 7
	uuid[8] = 0x80 | uuid[8]&0x3f // RFC 9562 variant

	return uuid
}
