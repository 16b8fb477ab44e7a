package subscriptions_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/subscriptions"
	"github.com/heraldhq/herald/internal/validation"
)

const eventTypeRule = "must be dot-separated segments of letters, digits, '_' and '-', at most 256 characters"

func TestValidateEventType(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		ok   bool
	}{
		{name: "invoice.paid", ok: true},
		{name: "a", ok: true},
		{name: "Invoice_2.paid-late.v1", ok: true},
		{name: "-._", ok: true},
		{name: strings.Repeat("a", 256), ok: true},
		{name: strings.Repeat("a.", 127) + "ab", ok: true},
		{name: strings.Repeat("a", 257)},
		{name: ""},
		{name: "."},
		{name: ".invoice"},
		{name: "invoice."},
		{name: "invoice..paid"},
		{name: "*"},
		{name: "invoice.*"},
		{name: "invoice paid"},
		{name: "invoice/paid"},
		{name: "invoice:paid"},
		{name: "facture.payée"},
		{name: "invoice\x00"},
		{name: "invoice\xff"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			err := subscriptions.ValidateEventType(tt.name)
			if tt.ok {
				require.NoError(t, err)

				return
			}

			requireFields(t, err, validation.FieldError{Field: "event_type", Detail: eventTypeRule})
		})
	}
}

func TestEventTypeFilterItems(t *testing.T) {
	t.Parallel()

	tests := []struct {
		item string
		ok   bool
	}{
		{item: "*", ok: true},
		{item: "invoice.paid", ok: true},
		{item: "invoice.*", ok: true},
		{item: "a.b.*", ok: true},
		{item: strings.Repeat("a", 254) + ".*", ok: true},
		{item: strings.Repeat("a", 255) + ".*"},
		{item: ""},
		{item: ".*"},
		{item: "*.*"},
		{item: "**"},
		{item: "invoice*"},
		{item: "invoice.*.*"},
		{item: "*.paid"},
		{item: "invoice.p*"},
		{item: "invoice..*"},
		{item: " invoice.paid"},
		{item: strings.Repeat("a", 257)},
	}

	for _, tt := range tests {
		t.Run(tt.item, func(t *testing.T) {
			t.Parallel()

			_, err := subscriptions.NewEndpoint("acme", subscriptions.EndpointParams{
				URL:        hookURL,
				EventTypes: []string{tt.item},
			})
			if tt.ok {
				require.NoError(t, err)

				return
			}

			requireFields(t, err, validation.FieldError{Field: "event_types[0]", Detail: filterItemRule})
		})
	}
}

func FuzzValidateEventType(f *testing.F) {
	for _, seed := range []string{
		"invoice.paid", "a", "", ".", "a..b", "a.", "*", "invoice.*", "é", "a\x00",
		strings.Repeat("a", 256), strings.Repeat("a.", 128),
	} {
		f.Add(seed)
	}

	f.Fuzz(func(t *testing.T, name string) {
		if subscriptions.ValidateEventType(name) != nil {
			return
		}

		require.NotEmpty(t, name)
		require.LessOrEqual(t, len(name), 256)

		for segment := range strings.SplitSeq(name, ".") {
			require.NotEmpty(t, segment, "accepted %q has an empty segment", name)

			for _, r := range segment {
				require.True(t, r == '_' || r == '-' || r >= '0' && r <= '9' ||
					r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z', "accepted %q holds %q", name, r)
			}
		}
	})
}

// FuzzEventTypeFilterItem checks that a filter item is accepted exactly
// when it is "*", an event type, or an event type followed by ".*".
func FuzzEventTypeFilterItem(f *testing.F) {
	for _, seed := range []string{"*", "invoice.*", "invoice.paid", ".*", "*.*", "a.*.*", ""} {
		f.Add(seed)
	}

	f.Fuzz(func(t *testing.T, item string) {
		_, err := subscriptions.NewEndpoint("acme", subscriptions.EndpointParams{
			URL:        hookURL,
			EventTypes: []string{item},
		})

		prefix := strings.TrimSuffix(item, ".*")
		want := item == "*" || subscriptions.ValidateEventType(prefix) == nil
		require.Equal(t, want, err == nil, "item %q: %v", item, err)

		if err == nil && item != "*" {
			require.NotContains(t, prefix, "*", "accepted %q", item)
			require.NotContains(t, strings.Split(prefix, "."), "", "accepted %q", item)
		}
	})
}
