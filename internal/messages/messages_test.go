package messages_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/validation"
)

// validParams returns params that [messages.New] accepts.
func validParams() messages.Params {
	return messages.Params{
		EventType: "invoice.paid",
		EventID:   "evt-42",
		Payload:   []byte(`{"invoice_id": "inv_1", "amount": 1200}`),
	}
}

// requireFields asserts that err is a [*validation.Error] naming exactly
// fields, in order.
func requireFields(t *testing.T, err error, fields ...string) {
	t.Helper()

	verr, ok := errors.AsType[*validation.Error](err)
	require.True(t, ok, "error %v is not a *validation.Error", err)

	got := make([]string, len(verr.Fields))
	for i, f := range verr.Fields {
		got[i] = f.Field
		require.NotEmpty(t, f.Detail)
	}

	require.Equal(t, fields, got)
}

func TestNew(t *testing.T) {
	t.Parallel()

	params := validParams()
	before := time.Now()

	m, err := messages.New("acme", params, 0)
	require.NoError(t, err)

	require.True(t, strings.HasPrefix(m.ID, "msg_"), "id %q", m.ID)
	require.NoError(t, messages.ValidateID(m.ID))
	require.Equal(t, "acme", m.TenantID)
	require.Equal(t, params.EventType, m.EventType)
	require.Equal(t, params.EventID, m.EventID)
	require.Equal(t, params.Payload, m.Payload)
	require.NotEqual(t, [32]byte{}, m.BodyHash)

	// Created now, in UTC, to the microsecond PostgreSQL keeps.
	require.WithinRange(t, m.CreatedAt, before.Add(-time.Microsecond), time.Now())
	require.Equal(t, time.UTC, m.CreatedAt.Location())
	require.Zero(t, m.CreatedAt.Nanosecond()%1000)

	other, err := messages.New("acme", params, 0)
	require.NoError(t, err)
	require.NotEqual(t, m.ID, other.ID)
}

func TestNewKeepsPayloadBytes(t *testing.T) {
	t.Parallel()

	// Signatures cover the payload, so it is kept byte for byte, with its
	// spaces, key order and escapes.
	payload := []byte(" \n{ \"b\" : 1,\t\"a\": \"\\u00e9<>\" }\n")

	m, err := messages.New("acme", messages.Params{EventType: "a", Payload: payload}, 0)
	require.NoError(t, err)
	require.Equal(t, payload, m.Payload)
	require.Empty(t, m.EventID)
}

func TestNewRules(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		change func(p *messages.Params)
		field  string
	}{
		{name: "event type missing", change: func(p *messages.Params) { p.EventType = "" }, field: "event_type"},
		{name: "event type with a space", change: func(p *messages.Params) { p.EventType = "invoice paid" }, field: "event_type"},
		{name: "event type with an empty segment", change: func(p *messages.Params) { p.EventType = "invoice..paid" }, field: "event_type"},
		{name: "event type ending in a dot", change: func(p *messages.Params) { p.EventType = "invoice." }, field: "event_type"},
		{name: "event type wildcard", change: func(p *messages.Params) { p.EventType = "invoice.*" }, field: "event_type"},
		{name: "event type not ASCII", change: func(p *messages.Params) { p.EventType = "facture.payée" }, field: "event_type"},
		{
			name:   "event type over 256 characters",
			change: func(p *messages.Params) { p.EventType = strings.Repeat("a", 257) },
			field:  "event_type",
		},
		{name: "payload missing", change: func(p *messages.Params) { p.Payload = nil }, field: "payload"},
		{name: "payload empty", change: func(p *messages.Params) { p.Payload = []byte{} }, field: "payload"},
		{name: "payload whitespace", change: func(p *messages.Params) { p.Payload = []byte(" \t\r\n ") }, field: "payload"},
		{name: "payload array", change: func(p *messages.Params) { p.Payload = []byte(`[{"a":1}]`) }, field: "payload"},
		{name: "payload string", change: func(p *messages.Params) { p.Payload = []byte(`"{}"`) }, field: "payload"},
		{name: "payload number", change: func(p *messages.Params) { p.Payload = []byte(`42`) }, field: "payload"},
		{name: "payload null", change: func(p *messages.Params) { p.Payload = []byte(`null`) }, field: "payload"},
		{name: "payload true", change: func(p *messages.Params) { p.Payload = []byte(`true`) }, field: "payload"},
		{name: "payload invalid JSON", change: func(p *messages.Params) { p.Payload = []byte(`{"a":`) }, field: "payload"},
		{name: "payload unquoted key", change: func(p *messages.Params) { p.Payload = []byte(`{a:1}`) }, field: "payload"},
		{name: "payload two objects", change: func(p *messages.Params) { p.Payload = []byte(`{} {}`) }, field: "payload"},
		{name: "payload object then garbage", change: func(p *messages.Params) { p.Payload = []byte(`{}x`) }, field: "payload"},
		{
			name:   "event id over 256 bytes",
			change: func(p *messages.Params) { p.EventID = strings.Repeat("e", 257) },
			field:  "event_id",
		},
		{name: "event id with NUL", change: func(p *messages.Params) { p.EventID = "evt\x0042" }, field: "event_id"},
		{name: "event id not UTF-8", change: func(p *messages.Params) { p.EventID = "evt\xff" }, field: "event_id"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			params := validParams()
			tt.change(&params)

			m, err := messages.New("acme", params, 0)
			requireFields(t, err, tt.field)
			require.Equal(t, messages.Message{}, m)
		})
	}
}

func TestNewEveryRule(t *testing.T) {
	t.Parallel()

	_, err := messages.New("acme", messages.Params{
		EventType: "bad type",
		EventID:   "\x00",
		Payload:   []byte(`[]`),
	}, 0)
	requireFields(t, err, "event_type", "payload", "event_id")
}

func TestNewAtTheLimits(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		params messages.Params
	}{
		{name: "event type of 256 characters", params: messages.Params{EventType: strings.Repeat("a", 256)}},
		{name: "event type of many segments", params: messages.Params{EventType: "a.b-c.D_9.x"}},
		{name: "event id of 256 bytes", params: messages.Params{EventType: "a", EventID: strings.Repeat("e", 256)}},
		{name: "event id of spaces", params: messages.Params{EventType: "a", EventID: " "}},
		{name: "event id of 128 two-byte characters", params: messages.Params{EventType: "a", EventID: strings.Repeat("é", 128)}},
		{name: "empty object", params: messages.Params{EventType: "a", Payload: []byte(`{}`)}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			if tt.params.Payload == nil {
				tt.params.Payload = []byte(`{"ok":true}`)
			}

			m, err := messages.New("acme", tt.params, 0)
			require.NoError(t, err)
			require.Equal(t, tt.params.EventID, m.EventID)
		})
	}
}

// TestNewEventIDCountsCharacters checks the limit the API documents: the
// OpenAPI document gives event_id a maxLength of 256, which JSON Schema
// counts in characters, and the error says "characters" too.
func TestNewEventIDCountsCharacters(t *testing.T) {
	t.Parallel()

	params := validParams()
	params.EventID = strings.Repeat("é", 256) // 256 characters, 512 bytes

	_, err := messages.New("acme", params, 0)
	require.NoError(t, err)

	params.EventID = strings.Repeat("é", 257)

	_, err = messages.New("acme", params, 0)
	requireFields(t, err, "event_id")
}

func TestNewTooLarge(t *testing.T) {
	t.Parallel()

	object := func(n int) []byte {
		// {"p":"xxx"} of exactly n bytes.
		return []byte(`{"p":"` + strings.Repeat("x", n-8) + `"}`)
	}

	tests := []struct {
		name    string
		size    int
		maxSize int
		limit   int // 0 when the payload fits
	}{
		{name: "at the limit", size: 100, maxSize: 100},
		{name: "one byte over", size: 101, maxSize: 100, limit: 100},
		{name: "default limit reached", size: 256 << 10, maxSize: 0},
		{name: "default limit passed", size: 256<<10 + 1, maxSize: 0, limit: 256 << 10},
		{name: "negative means the default", size: 256<<10 + 1, maxSize: -1, limit: 256 << 10},
		{name: "over a limit above the default", size: 512<<10 + 1, maxSize: 512 << 10, limit: 512 << 10},
		{name: "under a limit above the default", size: 300 << 10, maxSize: 512 << 10},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			payload := object(tt.size)
			require.Len(t, payload, tt.size)

			_, err := messages.New("acme", messages.Params{EventType: "a", Payload: payload}, tt.maxSize)
			if tt.limit == 0 {
				require.NoError(t, err)
				return
			}

			tooLarge, ok := errors.AsType[*messages.TooLargeError](err)
			require.True(t, ok, "error %v", err)
			require.Equal(t, tt.limit, tooLarge.Limit)
			require.Contains(t, err.Error(), strconv.Itoa(tt.limit))
		})
	}
}

func TestNewTooLargeBeforeRules(t *testing.T) {
	t.Parallel()

	// The size is checked first: a huge body is not parsed.
	_, err := messages.New("acme", messages.Params{Payload: []byte(strings.Repeat("[", 11))}, 10)

	var tooLarge *messages.TooLargeError
	require.ErrorAs(t, err, &tooLarge)
	require.Equal(t, 10, tooLarge.Limit)
}

func TestValidateID(t *testing.T) {
	t.Parallel()

	m, err := messages.New("acme", validParams(), 0)
	require.NoError(t, err)

	tests := []struct {
		name  string
		id    string
		valid bool
	}{
		{name: "new id", id: m.ID, valid: true},
		{name: "example id", id: "msg_01jbq6q6ffe5x9qf2a8n1c3m4z", valid: true},
		{name: "empty", id: ""},
		{name: "endpoint id", id: "ep_01jbq6q6ffe5x9qf2a8n1c3m4z"},
		{name: "no prefix", id: "01jbq6q6ffe5x9qf2a8n1c3m4z"},
		{name: "prefix only", id: "msg_"},
		{name: "upper case prefix", id: "MSG_01jbq6q6ffe5x9qf2a8n1c3m4z"},
		{name: "upper case suffix", id: "msg_01JBQ6Q6FFE5X9QF2A8N1C3M4Z"},
		{name: "suffix too short", id: "msg_01jbq6q6ffe5x9qf2a8n1c3m4"},
		{name: "suffix too long", id: "msg_01jbq6q6ffe5x9qf2a8n1c3m4zz"},
		{name: "letter outside the alphabet", id: "msg_01jbq6q6ffe5x9qf2a8n1c3m4u"},
		{name: "suffix overflowing 128 bits", id: "msg_81jbq6q6ffe5x9qf2a8n1c3m4z"},
		{name: "trailing space", id: "msg_01jbq6q6ffe5x9qf2a8n1c3m4z "},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			err := messages.ValidateID(tt.id)
			if tt.valid {
				require.NoError(t, err)
				return
			}

			requireFields(t, err, "message_id")
		})
	}
}

func TestBodyHash(t *testing.T) {
	t.Parallel()

	hash := func(eventType, eventID, payload string) [32]byte {
		m, err := messages.New("acme", messages.Params{
			EventType: eventType, EventID: eventID, Payload: []byte(payload),
		}, 0)
		require.NoError(t, err)

		return m.BodyHash
	}

	base := hash("invoice.paid", "evt-1", `{"a":1}`)

	// The same type and payload hash the same, whatever the event id, the
	// message id or the time.
	require.Equal(t, base, hash("invoice.paid", "evt-1", `{"a":1}`))
	require.Equal(t, base, hash("invoice.paid", "evt-2", `{"a":1}`))
	require.Equal(t, base, hash("invoice.paid", "", `{"a":1}`))

	different := map[string][32]byte{
		"another type":           hash("invoice.failed", "evt-1", `{"a":1}`),
		"another payload":        hash("invoice.paid", "evt-1", `{"a":2}`),
		"the payload re-spaced":  hash("invoice.paid", "evt-1", `{"a": 1}`),
		"the payload re-ordered": hash("invoice.paid", "evt-1", `{"a":1,"b":2}`),
		"a type one longer":      hash("invoice.paidx", "evt-1", `{"a":1}`),
	}
	for name, h := range different {
		require.NotEqual(t, base, h, name)
	}

	// The separator keeps the type and the payload apart.
	require.NotEqual(t, hash("a", "", ` {"b":1}`), hash("a", "", `{"b":1}`))
}

func FuzzNew(f *testing.F) {
	f.Add("invoice.paid", "evt-1", []byte(`{"a":1}`), 0)
	f.Add("", "", []byte(nil), 10)
	f.Add("a..b", "\x00", []byte(` [] `), -1)
	f.Add("a", "é", []byte("{\"\xff\":1}"), 8)

	f.Fuzz(func(t *testing.T, eventType, eventID string, payload []byte, maxSize int) {
		params := messages.Params{EventType: eventType, EventID: eventID, Payload: payload}

		m, err := messages.New("acme", params, maxSize)
		if tooLarge, ok := errors.AsType[*messages.TooLargeError](err); ok {
			require.Greater(t, len(payload), tooLarge.Limit)
			return
		}

		if err != nil {
			verr, ok := errors.AsType[*validation.Error](err)
			require.True(t, ok, "error %v", err)
			require.NotEmpty(t, verr.Fields)

			return
		}

		require.NoError(t, messages.ValidateID(m.ID))
		require.Equal(t, payload, m.Payload)
		require.True(t, json.Valid(payload))
		require.Equal(t, byte('{'), bytes.TrimSpace(payload)[0])
		require.NotContains(t, eventID, "\x00")
		require.True(t, utf8.ValidString(eventID))
	})
}
