package subscriptions_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/signing"
	"github.com/heraldhq/herald/internal/subscriptions"
	"github.com/heraldhq/herald/internal/validation"
)

const (
	hookURL         = "https://hooks.example.com/herald"
	filterItemRule  = "must be an event type such as invoice.paid, a prefix such as invoice.*, or *"
	secretRule      = "must be whsec_ followed by the base64 of 24 to 64 bytes"
	endpointIDRule  = "must be an endpoint id such as ep_01jbq6q6ffe5x9qf2a8n1c3m4z"
	absoluteURLRule = "must be an absolute http or https URL"
)

// newEndpoint returns a valid endpoint of tenant "acme" made from params,
// with hookURL when params has no URL.
func newEndpoint(t *testing.T, params subscriptions.EndpointParams) subscriptions.Endpoint {
	t.Helper()

	if params.URL == "" {
		params.URL = hookURL
	}

	e, err := subscriptions.NewEndpoint("acme", params)
	require.NoError(t, err)

	return e
}

func TestNewEndpoint(t *testing.T) {
	t.Parallel()

	before := time.Now()
	e := newEndpoint(t, subscriptions.EndpointParams{
		URL:            hookURL,
		Description:    "billing",
		EventTypes:     []string{"invoice.paid", "customer.*"},
		Headers:        map[string]string{"Authorization": "Bearer abc"},
		Disabled:       true,
		DisabledReason: "maintenance",
	})

	require.True(t, strings.HasPrefix(e.ID, "ep_"), e.ID)
	require.NoError(t, subscriptions.ValidateEndpointID(e.ID))
	require.Equal(t, "acme", e.TenantID)
	require.Equal(t, hookURL, e.URL)
	require.Equal(t, "billing", e.Description)
	require.Equal(t, []string{"invoice.paid", "customer.*"}, e.EventTypes)
	require.Equal(t, map[string]string{"Authorization": "Bearer abc"}, e.Headers)
	require.True(t, e.Disabled)
	require.Equal(t, "maintenance", e.DisabledReason)
	require.Len(t, e.Secret, 32)
	require.Empty(t, e.PreviousSecrets)

	requireNow(t, before, e.CreatedAt)
	require.Equal(t, e.CreatedAt, e.UpdatedAt)
	require.Equal(t, e.CreatedAt, e.SecretCreatedAt)
}

func TestNewEndpointFreshIDAndSecret(t *testing.T) {
	t.Parallel()

	a := newEndpoint(t, subscriptions.EndpointParams{})
	b := newEndpoint(t, subscriptions.EndpointParams{})

	require.NotEqual(t, a.ID, b.ID)
	require.NotEqual(t, a.Secret, b.Secret)
}

func TestNewEndpointKeepsSuppliedSecret(t *testing.T) {
	t.Parallel()

	secret, err := signing.NewSecret()
	require.NoError(t, err)

	e := newEndpoint(t, subscriptions.EndpointParams{Secret: secret.Encode()})
	require.Equal(t, secret, e.Secret)

	// The unpadded form of a 24-byte key is accepted too.
	const short = "whsec_q6urq6urq6urq6urq6urq6urq6urq6ur"
	e = newEndpoint(t, subscriptions.EndpointParams{Secret: short})
	require.Equal(t, short, e.Secret.Encode())
}

func TestNewEndpointNormalizes(t *testing.T) {
	t.Parallel()

	t.Run("duplicate event types", func(t *testing.T) {
		t.Parallel()

		in := []string{"b.x", "a", "b.x", "*", "a", "b.*"}
		e := newEndpoint(t, subscriptions.EndpointParams{EventTypes: in})
		require.Equal(t, []string{"b.x", "a", "*", "b.*"}, e.EventTypes)
		require.Equal(t, []string{"b.x", "a", "b.x", "*", "a", "b.*"}, in, "the input is left alone")
	})

	t.Run("nil collections", func(t *testing.T) {
		t.Parallel()

		e := newEndpoint(t, subscriptions.EndpointParams{})
		require.NotNil(t, e.EventTypes)
		require.Empty(t, e.EventTypes)
		require.Equal(t, map[string]string{}, e.Headers)
	})

	t.Run("reason cleared while enabled", func(t *testing.T) {
		t.Parallel()

		e := newEndpoint(t, subscriptions.EndpointParams{DisabledReason: "left over"})
		require.False(t, e.Disabled)
		require.Empty(t, e.DisabledReason)
	})

	t.Run("reason kept while disabled", func(t *testing.T) {
		t.Parallel()

		e := newEndpoint(t, subscriptions.EndpointParams{Disabled: true, DisabledReason: "gone"})
		require.Equal(t, "gone", e.DisabledReason)
	})
}

func TestNewEndpointURL(t *testing.T) {
	t.Parallel()

	longURL := "https://example.com/" + strings.Repeat("a", 2048-len("https://example.com/"))

	tests := []struct {
		url    string
		detail string // empty when url is valid
	}{
		{url: "https://example.com"},
		{url: "http://example.com:8080/hooks?x=1"},
		{url: "HTTPS://EXAMPLE.COM/Hook"},
		{url: "http://127.0.0.1/"},
		{url: "http://[::1]:9000/"},
		{url: longURL},
		{url: "", detail: "is required"},
		{url: longURL + "a", detail: "must be at most 2048 characters"},
		{url: "http://[::1", detail: "is not a valid URL"},
		{url: "https://example.com/%zz", detail: "is not a valid URL"},
		{url: "https://exa mple.com/", detail: "is not a valid URL"},
		{url: "https://example.com/\n", detail: "is not a valid URL"},
		{url: "ftp://example.com/", detail: absoluteURLRule},
		{url: "example.com/hook", detail: absoluteURLRule},
		{url: "//example.com/hook", detail: absoluteURLRule},
		{url: "/hook", detail: absoluteURLRule},
		{url: "javascript:alert(1)", detail: absoluteURLRule},
		{url: "http:///hook", detail: "must name a host"},
		{url: "https://:443/hook", detail: "must name a host"},
		{url: "https:example.com", detail: "must name a host"},
		{url: "https://user:pw@example.com/", detail: "must not carry credentials; send them in headers instead"},
		{url: "https://user@example.com/", detail: "must not carry credentials; send them in headers instead"},
		{url: "https://@example.com/", detail: "must not carry credentials; send them in headers instead"},
		{url: "https://example.com/#top", detail: "must not have a fragment"},
		{url: "https://example.com/#", detail: "must not have a fragment"},
	}

	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()

			e, err := subscriptions.NewEndpoint("acme", subscriptions.EndpointParams{URL: tt.url})
			if tt.detail == "" {
				require.NoError(t, err)
				require.Equal(t, tt.url, e.URL)

				return
			}

			requireFields(t, err, validation.FieldError{Field: "url", Detail: tt.detail})
			require.Equal(t, subscriptions.Endpoint{}, e)
		})
	}
}

func TestNewEndpointRules(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		params subscriptions.EndpointParams
		want   []validation.FieldError // nil when params are valid
	}{
		{
			name:   "description of 1024 characters",
			params: subscriptions.EndpointParams{Description: strings.Repeat("é", 1024)},
		},
		{
			name:   "description of 1025 characters",
			params: subscriptions.EndpointParams{Description: strings.Repeat("é", 1025)},
			want:   []validation.FieldError{{Field: "description", Detail: "must be at most 1024 characters"}},
		},
		{
			name:   "reason of 512 characters",
			params: subscriptions.EndpointParams{Disabled: true, DisabledReason: strings.Repeat("é", 512)},
		},
		{
			name:   "reason of 513 characters",
			params: subscriptions.EndpointParams{Disabled: true, DisabledReason: strings.Repeat("é", 513)},
			want:   []validation.FieldError{{Field: "disabled_reason", Detail: "must be at most 512 characters"}},
		},
		{
			name:   "100 event types",
			params: subscriptions.EndpointParams{EventTypes: eventTypesOf(100)},
		},
		{
			name:   "101 event types",
			params: subscriptions.EndpointParams{EventTypes: eventTypesOf(101)},
			want:   []validation.FieldError{{Field: "event_types", Detail: "must have at most 100 items"}},
		},
		{
			name:   "101 event types, some invalid, one error only",
			params: subscriptions.EndpointParams{EventTypes: append(eventTypesOf(100), "bad type")},
			want:   []validation.FieldError{{Field: "event_types", Detail: "must have at most 100 items"}},
		},
		{
			name:   "invalid event types",
			params: subscriptions.EndpointParams{EventTypes: []string{"ok", "", "a..b", "ok.*", "a.*.*"}},
			want: []validation.FieldError{
				{Field: "event_types[1]", Detail: filterItemRule},
				{Field: "event_types[2]", Detail: filterItemRule},
				{Field: "event_types[4]", Detail: filterItemRule},
			},
		},
		{
			name:   "malformed secret",
			params: subscriptions.EndpointParams{Secret: "whsec_c2hvcnQ="},
			want:   []validation.FieldError{{Field: "secret", Detail: secretRule}},
		},
		{
			name:   "secret without prefix",
			params: subscriptions.EndpointParams{Secret: "q6urq6urq6urq6urq6urq6urq6urq6ur"},
			want:   []validation.FieldError{{Field: "secret", Detail: secretRule}},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			tt.params.URL = hookURL

			e, err := subscriptions.NewEndpoint("acme", tt.params)
			if tt.want == nil {
				require.NoError(t, err)
				require.Equal(t, tt.params.Description, e.Description)
				require.Equal(t, tt.params.DisabledReason, e.DisabledReason)

				return
			}

			requireFields(t, err, tt.want...)
		})
	}
}

// TestNewEndpointReportsEveryField checks that every broken rule is
// reported, in a fixed order: url, description, disabled_reason, event types
// by index, headers by name, secret.
func TestNewEndpointReportsEveryField(t *testing.T) {
	t.Parallel()

	params := subscriptions.EndpointParams{
		URL:            "ftp://example.com",
		Description:    strings.Repeat("d", 1025),
		EventTypes:     []string{"ok", "bad type", "*", ""},
		Headers:        map[string]string{"Host": "x", "X-Ok": "1", "Bad Name": "x", "Webhook-Id": "x"},
		DisabledReason: strings.Repeat("r", 513),
		Secret:         "nope",
	}
	want := []validation.FieldError{
		{Field: "url", Detail: absoluteURLRule},
		{Field: "description", Detail: "must be at most 1024 characters"},
		{Field: "disabled_reason", Detail: "must be at most 512 characters"},
		{Field: "event_types[1]", Detail: filterItemRule},
		{Field: "event_types[3]", Detail: filterItemRule},
		{Field: "headers.Bad Name", Detail: "is not a valid header name"},
		{Field: "headers.Host", Detail: reservedRule},
		{Field: "headers.Webhook-Id", Detail: webhookRule},
		{Field: "secret", Detail: secretRule},
	}

	for range 10 { // map iteration order must not leak into the result
		_, err := subscriptions.NewEndpoint("acme", params)
		requireFields(t, err, want...)
	}
}

func TestValidateEndpointID(t *testing.T) {
	t.Parallel()

	tests := []struct {
		id string
		ok bool
	}{
		{id: "ep_01jbq6q6ffe5x9qf2a8n1c3m4z", ok: true},
		{id: "ep_00000000000000000000000000", ok: true},
		{id: "ep_x"},
		{id: "ep_"},
		{id: "ep"},
		{id: ""},
		{id: "01jbq6q6ffe5x9qf2a8n1c3m4z"},
		{id: "msg_01jbq6q6ffe5x9qf2a8n1c3m4z"},
		{id: "EP_01jbq6q6ffe5x9qf2a8n1c3m4z"},
		{id: "ep_01JBQ6Q6FFE5X9QF2A8N1C3M4Z"},
		{id: "ep_81jbq6q6ffe5x9qf2a8n1c3m4z"},
		{id: "ep_01jbq6q6ffe5x9qf2a8n1c3m4z "},
		{id: "ep_01jbq6q6ffe5x9qf2a8n1c3m4u"},
	}

	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			t.Parallel()

			err := subscriptions.ValidateEndpointID(tt.id)
			if tt.ok {
				require.NoError(t, err)

				return
			}

			requireFields(t, err, validation.FieldError{Field: "endpoint_id", Detail: endpointIDRule})
		})
	}
}

func TestEndpointPatchApply(t *testing.T) {
	t.Parallel()

	var (
		url         = "https://other.example.com/"
		description = "new description"
		eventTypes  = []string{"a", "b.*", "a"}
		headers     = map[string]string{"X-Token": "t"}
		nilHeaders  map[string]string
		yes         = true
		no          = false
		reason      = "too many failures"
	)

	tests := []struct {
		name  string
		patch subscriptions.EndpointPatch
		want  func(e *subscriptions.Endpoint)
	}{
		{
			name:  "nothing",
			patch: subscriptions.EndpointPatch{},
			want:  func(*subscriptions.Endpoint) {},
		},
		{
			name:  "url",
			patch: subscriptions.EndpointPatch{URL: &url},
			want:  func(e *subscriptions.Endpoint) { e.URL = url },
		},
		{
			name:  "description",
			patch: subscriptions.EndpointPatch{Description: &description},
			want:  func(e *subscriptions.Endpoint) { e.Description = description },
		},
		{
			name:  "event types, deduplicated",
			patch: subscriptions.EndpointPatch{EventTypes: &eventTypes},
			want:  func(e *subscriptions.Endpoint) { e.EventTypes = []string{"a", "b.*"} },
		},
		{
			name:  "headers",
			patch: subscriptions.EndpointPatch{Headers: &headers},
			want:  func(e *subscriptions.Endpoint) { e.Headers = headers },
		},
		{
			name:  "nil headers become empty",
			patch: subscriptions.EndpointPatch{Headers: &nilHeaders},
			want:  func(e *subscriptions.Endpoint) { e.Headers = map[string]string{} },
		},
		{
			name:  "disable with a reason",
			patch: subscriptions.EndpointPatch{Disabled: &yes, DisabledReason: &reason},
			want: func(e *subscriptions.Endpoint) {
				e.Disabled = true
				e.DisabledReason = reason
			},
		},
		{
			name:  "disable without a reason",
			patch: subscriptions.EndpointPatch{Disabled: &yes},
			want:  func(e *subscriptions.Endpoint) { e.Disabled = true },
		},
		{
			name:  "reason while enabled is dropped",
			patch: subscriptions.EndpointPatch{DisabledReason: &reason},
			want:  func(*subscriptions.Endpoint) {},
		},
		{
			name:  "enable",
			patch: subscriptions.EndpointPatch{Disabled: &no},
			want:  func(*subscriptions.Endpoint) {},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			e := newEndpoint(t, subscriptions.EndpointParams{
				Description: "old",
				EventTypes:  []string{"invoice.paid"},
				Headers:     map[string]string{"X-Old": "1"},
			})

			want := e
			tt.want(&want)

			before := time.Now()
			require.NoError(t, tt.patch.Apply(&e))

			requireNow(t, before, e.UpdatedAt)
			want.UpdatedAt = e.UpdatedAt
			require.Equal(t, want, e)
		})
	}
}

func TestEndpointPatchApplyEnableClearsReason(t *testing.T) {
	t.Parallel()

	e := newEndpoint(t, subscriptions.EndpointParams{Disabled: true, DisabledReason: "gone"})

	enabled := false
	require.NoError(t, subscriptions.EndpointPatch{Disabled: &enabled}.Apply(&e))
	require.False(t, e.Disabled)
	require.Empty(t, e.DisabledReason)
}

func TestEndpointPatchApplyInvalid(t *testing.T) {
	t.Parallel()

	var (
		url        = "not a url"
		eventTypes = []string{"a", "*.a"}
		headers    = map[string]string{"Content-Type": "text/plain"}
		reason     = strings.Repeat("r", 513)
		yes        = true
	)

	e := newEndpoint(t, subscriptions.EndpointParams{})
	err := subscriptions.EndpointPatch{
		URL:            &url,
		EventTypes:     &eventTypes,
		Headers:        &headers,
		Disabled:       &yes,
		DisabledReason: &reason,
	}.Apply(&e)

	requireFields(t, err,
		validation.FieldError{Field: "url", Detail: absoluteURLRule},
		validation.FieldError{Field: "disabled_reason", Detail: "must be at most 512 characters"},
		validation.FieldError{Field: "event_types[1]", Detail: filterItemRule},
		validation.FieldError{Field: "headers.Content-Type", Detail: reservedRule},
	)
}

func eventTypesOf(n int) []string {
	items := make([]string, n)
	for i := range items {
		items[i] = "event.type" + strings.Repeat("x", i)
	}

	return items
}
