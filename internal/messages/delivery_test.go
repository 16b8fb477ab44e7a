package messages_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/messages"
)

func TestMatches(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name      string
		filter    []string
		eventType string
		want      bool
	}{
		{name: "nil filter", filter: nil, eventType: "invoice.paid", want: true},
		{name: "empty filter", filter: []string{}, eventType: "invoice.paid", want: true},
		{name: "star", filter: []string{"*"}, eventType: "invoice.paid", want: true},
		{name: "star and more", filter: []string{"customer.created", "*"}, eventType: "invoice.paid", want: true},
		{name: "exact", filter: []string{"invoice.paid"}, eventType: "invoice.paid", want: true},
		{name: "exact of another type", filter: []string{"invoice.paid"}, eventType: "invoice.failed", want: false},
		{name: "exact is case-sensitive", filter: []string{"Invoice.paid"}, eventType: "invoice.paid", want: false},
		{name: "exact does not match a longer type", filter: []string{"invoice.paid"}, eventType: "invoice.paid.late", want: false},
		{name: "exact does not match a prefix", filter: []string{"invoice.paid"}, eventType: "invoice", want: false},
		{name: "single segment exact", filter: []string{"invoice"}, eventType: "invoice", want: true},
		{name: "single segment is not a prefix", filter: []string{"invoice"}, eventType: "invoice.paid", want: false},
		{name: "wildcard one level down", filter: []string{"invoice.*"}, eventType: "invoice.paid", want: true},
		{name: "wildcard two levels down", filter: []string{"invoice.*"}, eventType: "invoice.paid.late", want: true},
		{name: "wildcard not the bare prefix", filter: []string{"invoice.*"}, eventType: "invoice", want: false},
		{name: "wildcard not the prefix with its dot", filter: []string{"invoice.*"}, eventType: "invoice.", want: false},
		{name: "wildcard not a longer first segment", filter: []string{"invoice.*"}, eventType: "invoices.paid", want: false},
		{name: "wildcard not a shorter first segment", filter: []string{"invoices.*"}, eventType: "invoice.paid", want: false},
		{name: "wildcard not another type", filter: []string{"invoice.*"}, eventType: "customer.created", want: false},
		{name: "wildcard not in the middle", filter: []string{"invoice.*"}, eventType: "billing.invoice.paid", want: false},
		{name: "nested wildcard", filter: []string{"invoice.paid.*"}, eventType: "invoice.paid.late", want: true},
		{name: "nested wildcard not its parent", filter: []string{"invoice.paid.*"}, eventType: "invoice.paid", want: false},
		{name: "star inside an item is literal", filter: []string{"*.paid"}, eventType: "invoice.paid", want: false},
		{name: "several, none matching", filter: []string{"customer.*", "invoice.paid"}, eventType: "invoice.failed", want: false},
		{name: "several, the first matching", filter: []string{"invoice.*", "customer.created"}, eventType: "invoice.failed", want: true},
		{name: "several, the last matching", filter: []string{"customer.*", "order.shipped", "invoice.failed"}, eventType: "invoice.failed", want: true},
		{name: "empty type with a filter", filter: []string{"invoice.*"}, eventType: "", want: false},
		{name: "empty item", filter: []string{""}, eventType: "invoice.paid", want: false},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			require.Equal(t, tt.want, messages.Matches(tt.filter, tt.eventType))
		})
	}
}

func FuzzMatches(f *testing.F) {
	f.Add("invoice.*", "invoice.paid")
	f.Add("*", "a")
	f.Add(".*", ".")
	f.Add("invoice.paid", "invoice.paid")
	f.Add("", "")
	f.Add("a.*", "a.")

	f.Fuzz(func(t *testing.T, item, eventType string) {
		got := messages.Matches([]string{item}, eventType)

		// What must hold whatever the input.
		require.True(t, messages.Matches(nil, eventType))
		require.True(t, messages.Matches([]string{item, "*"}, eventType))
		require.True(t, messages.Matches([]string{item, eventType}, eventType))
		require.Equal(t, got, messages.Matches([]string{item, item}, eventType))

		if item == eventType {
			require.True(t, got)
		}

		// A wildcard matches exactly the longer types under its prefix;
		// any other item only itself.
		switch {
		case item == "*" || item == eventType:
		case strings.HasSuffix(item, ".*"):
			prefix := strings.TrimSuffix(item, "*")
			want := len(eventType) > len(prefix) && strings.HasPrefix(eventType, prefix)
			require.Equal(t, want, got, "item %q, type %q", item, eventType)
		default:
			require.False(t, got, "item %q, type %q", item, eventType)
		}
	})
}

func TestDeliveryKeyText(t *testing.T) {
	t.Parallel()

	d := messages.Delivery{
		MessageID:  "msg_01jbq6q6ffe5x9qf2a8n1c3m4z",
		EndpointID: "ep_01jbq6q6ffe5x9qf2a8n1c3m4z",
	}

	key, ok := messages.ParseDeliveryKey(d.Key().String())
	require.True(t, ok)
	require.Equal(t, d.Key(), key)

	for _, text := range []string{"", "msg_01jbq6q6ffe5x9qf2a8n1c3m4z", d.EndpointID + " " + d.MessageID, "a b"} {
		_, ok := messages.ParseDeliveryKey(text)
		require.False(t, ok, text)
	}
}
