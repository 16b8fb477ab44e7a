// Package messages holds published events: what a producer sends, the
// rules it must follow, and the state of its delivery at each endpoint.
package messages

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"go.jetify.com/typeid"

	"github.com/heraldhq/herald/internal/subscriptions"
	"github.com/heraldhq/herald/internal/validation"
)

var (
	// ErrNotFound is returned when the tenant has no message with the given
	// id.
	ErrNotFound = errors.New("messages: message not found")

	// ErrConflict is returned when a message reuses an event id with
	// another event type or payload.
	ErrConflict = errors.New("messages: event id already used with another body")

	// ErrLocked is returned by a store that writes the rows of many
	// messages or deliveries at once and gave up waiting for a row another
	// transaction holds, such as a tenant or endpoint being deleted. The
	// caller writes them again one at a time, so that only the one that
	// needs that row waits for it.
	ErrLocked = errors.New("messages: rows locked by another transaction")
)

const (
	idPrefix       = "msg"
	maxEventIDLen  = 256
	defaultMaxSize = 256 << 10
)

// Message is one published event.
type Message struct {
	ID        string
	TenantID  string
	EventType string

	// EventID is the producer's idempotency key; empty when none was given.
	EventID string

	// Payload is the JSON object exactly as the producer sent it.
	Payload []byte

	// BodyHash identifies EventType and Payload together.
	BodyHash [sha256.Size]byte

	CreatedAt time.Time
}

// Published is the outcome of publishing a message.
type Published struct {
	Message Message

	// Endpoints counts the endpoints the message goes to.
	Endpoints int

	// Replayed is true when the event id was published before with the
	// same body: Message is the original and nothing new was queued.
	Replayed bool
}

// PublishResult is what publishing did with one message of several
// published together: Published, or Err when that message alone was
// refused, such as for [ErrConflict].
type PublishResult struct {
	Published Published
	Err       error
}

// Params are what a producer sends to publish a message.
type Params struct {
	EventType string
	EventID   string
	Payload   []byte
}

// TooLargeError is returned by [New] when the payload is over the limit.
type TooLargeError struct {
	Limit int
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("messages: payload is over %d bytes", e.Limit)
}

// New returns the message that params describe, with a fresh id, or a
// [*validation.Error] naming each invalid field, or [*TooLargeError] when the
// payload is over maxSize bytes (0 means 256 KiB).
func New(tenantID string, params Params, maxSize int) (Message, error) {
	if maxSize <= 0 {
		maxSize = defaultMaxSize
	}

	if len(params.Payload) > maxSize {
		return Message{}, &TooLargeError{Limit: maxSize}
	}

	if err := check(params); err != nil {
		return Message{}, err
	}

	id, err := typeid.WithPrefix(idPrefix)
	if err != nil {
		return Message{}, fmt.Errorf("new message id: %w", err)
	}

	return Message{
		ID:        id.String(),
		TenantID:  tenantID,
		EventType: params.EventType,
		EventID:   params.EventID,
		Payload:   params.Payload,
		BodyHash:  bodyHash(params.EventType, params.Payload),
		CreatedAt: time.Now().UTC().Truncate(time.Microsecond),
	}, nil
}

func check(params Params) error {
	var errs validation.Errors

	err := subscriptions.ValidateEventType(params.EventType)
	if verr, ok := errors.AsType[*validation.Error](err); ok {
		errs.Addf("event_type", "%s", verr.Fields[0].Detail)
	}

	payload := bytes.TrimSpace(params.Payload)

	switch {
	case len(payload) == 0:
		errs.Addf("payload", "is required")
	case payload[0] != '{' || !json.Valid(payload):
		errs.Addf("payload", "must be a JSON object")
	}

	if params.EventID != "" {
		if utf8.RuneCountInString(params.EventID) > maxEventIDLen || !utf8.ValidString(params.EventID) ||
			strings.ContainsRune(params.EventID, 0) {
			errs.Addf("event_id", "must be at most %d characters, without NUL", maxEventIDLen)
		}
	}

	return errs.Err()
}

// bodyHash covers the event type and the payload bytes, separated so that no
// two different pairs share an input.
func bodyHash(eventType string, payload []byte) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte(eventType))
	h.Write([]byte{0})
	h.Write(payload)

	var sum [sha256.Size]byte
	h.Sum(sum[:0])

	return sum
}

// ValidateID reports whether id has the form of a message id.
func ValidateID(id string) error {
	tid, err := typeid.FromString(id)
	if err != nil || tid.Prefix() != idPrefix {
		return validation.Fail("message_id", "must be a message id such as msg_01jbq6q6ffe5x9qf2a8n1c3m4z")
	}

	return nil
}
