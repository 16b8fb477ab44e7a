package subscriptions_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/subscriptions"
	"github.com/heraldhq/herald/internal/validation"
)

const (
	reservedRule = "is set by Herald or the transport and cannot be overridden"
	webhookRule  = "webhook-* headers are Herald's own signature headers"
	nameRule     = "is not a valid header name"
	controlRule  = "must not contain control characters such as line breaks"
)

func TestNewEndpointHeaders(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		headers map[string]string
		want    []validation.FieldError // nil when headers are valid
	}{
		{name: "none", headers: map[string]string{}},
		{name: "20 headers", headers: headersOf(20)},
		{
			name:    "21 headers",
			headers: headersOf(21),
			want:    []validation.FieldError{{Field: "headers", Detail: "must have at most 20 headers"}},
		},
		{
			name:    "21 headers, some invalid, one error only",
			headers: withHeader(headersOf(20), "Host", "x"),
			want:    []validation.FieldError{{Field: "headers", Detail: "must have at most 20 headers"}},
		},
		{
			name:    "authorization and user agent are allowed",
			headers: map[string]string{"Authorization": "Bearer t", "User-Agent": "x", "X-Empty": ""},
		},
		{name: "value with a tab", headers: map[string]string{"X-Tab": "a\tb"}},
		{name: "value of 4096 bytes", headers: map[string]string{"X-Big": strings.Repeat("v", 4096)}},
		{
			name:    "value of 4097 bytes",
			headers: map[string]string{"X-Big": strings.Repeat("v", 4097)},
			want:    []validation.FieldError{{Field: "headers.X-Big", Detail: "must be at most 4096 bytes"}},
		},
		{
			name:    "line break in value",
			headers: map[string]string{"X-Split": "a\r\nEvil: 1"},
			want:    []validation.FieldError{{Field: "headers.X-Split", Detail: controlRule}},
		},
		{
			name:    "NUL in value",
			headers: map[string]string{"X-Nul": "a\x00b"},
			want:    []validation.FieldError{{Field: "headers.X-Nul", Detail: controlRule}},
		},
		{
			name:    "empty name",
			headers: map[string]string{"": "x"},
			want:    []validation.FieldError{{Field: "headers.", Detail: nameRule}},
		},
		{
			name:    "space in name",
			headers: map[string]string{"X Token": "x"},
			want:    []validation.FieldError{{Field: "headers.X Token", Detail: nameRule}},
		},
		{
			name:    "colon in name",
			headers: map[string]string{"X-Token:": "x"},
			want:    []validation.FieldError{{Field: "headers.X-Token:", Detail: nameRule}},
		},
		{
			name:    "non-ASCII name",
			headers: map[string]string{"X-Tökén": "x"},
			want:    []validation.FieldError{{Field: "headers.X-Tökén", Detail: nameRule}},
		},
		{
			name: "reserved in any case",
			headers: map[string]string{
				"Content-Type": "x", "host": "x", "CONNECTION": "x", "Transfer-Encoding": "x",
			},
			want: []validation.FieldError{
				{Field: "headers.CONNECTION", Detail: reservedRule},
				{Field: "headers.Content-Type", Detail: reservedRule},
				{Field: "headers.Transfer-Encoding", Detail: reservedRule},
				{Field: "headers.host", Detail: reservedRule},
			},
		},
		{
			name:    "webhook headers in any case",
			headers: map[string]string{"Webhook-Signature": "x", "webhook-id": "x", "WEBHOOK-X": "x"},
			want: []validation.FieldError{
				{Field: "headers.WEBHOOK-X", Detail: webhookRule},
				{Field: "headers.Webhook-Signature", Detail: webhookRule},
				{Field: "headers.webhook-id", Detail: webhookRule},
			},
		},
		{
			name:    "webhook without a dash is not reserved",
			headers: map[string]string{"Webhooks": "x"},
		},
		{
			name:    "same name in another case",
			headers: map[string]string{"X-Token": "a", "x-token": "b", "X-TOKEN": "c"},
			want: []validation.FieldError{
				{Field: "headers.X-Token", Detail: "repeats header X-TOKEN in another case"},
				{Field: "headers.x-token", Detail: "repeats header X-Token in another case"},
			},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			e, err := subscriptions.NewEndpoint("acme", subscriptions.EndpointParams{
				URL:     hookURL,
				Headers: tt.headers,
			})
			if tt.want == nil {
				require.NoError(t, err)
				require.Equal(t, tt.headers, e.Headers)

				return
			}

			requireFields(t, err, tt.want...)
		})
	}
}

func TestNewEndpointEveryReservedHeader(t *testing.T) {
	t.Parallel()

	reserved := []string{
		"Connection", "Content-Length", "Content-Type", "Host", "Keep-Alive",
		"Proxy-Authenticate", "Proxy-Authorization", "Proxy-Connection", "Te",
		"Trailer", "Transfer-Encoding", "Upgrade",
	}

	for _, name := range reserved {
		_, err := subscriptions.NewEndpoint("acme", subscriptions.EndpointParams{
			URL:     hookURL,
			Headers: map[string]string{name: "x"},
		})
		requireFields(t, err, validation.FieldError{Field: "headers." + name, Detail: reservedRule})
	}
}

func headersOf(n int) map[string]string {
	h := make(map[string]string, n)
	for i := range n {
		h[fmt.Sprintf("X-Header-%02d", i)] = "value"
	}

	return h
}

func withHeader(h map[string]string, name, value string) map[string]string {
	h[name] = value

	return h
}
