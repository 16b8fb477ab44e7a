package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/client"
)

// endpointRule is one rule of an endpoint's fields, broken by change.
type endpointRule struct {
	name   string
	change func(in *client.EndpointInput)
	field  string
}

func endpointRules() []endpointRule {
	withHeaders := func(h client.Headers) func(*client.EndpointInput) {
		return func(in *client.EndpointInput) { in.Headers = &h }
	}
	withEventTypes := func(items ...string) func(*client.EndpointInput) {
		return func(in *client.EndpointInput) { in.EventTypes = &items }
	}
	withURL := func(u string) func(*client.EndpointInput) {
		return func(in *client.EndpointInput) { in.Url = u }
	}

	tooManyHeaders := client.Headers{}
	for i := range 21 {
		tooManyHeaders[fmt.Sprintf("X-Header-%02d", i)] = "v"
	}

	tooManyEventTypes := make([]string, 101)
	for i := range tooManyEventTypes {
		tooManyEventTypes[i] = fmt.Sprintf("event.%d", i)
	}

	return []endpointRule{
		{name: "missing url", change: withURL(""), field: "url"},
		{name: "relative url", change: withURL("/hooks"), field: "url"},
		{name: "url without scheme", change: withURL("example.com/hooks"), field: "url"},
		{name: "ftp url", change: withURL("ftp://example.com/hooks"), field: "url"},
		{name: "url without host", change: withURL("https:///hooks"), field: "url"},
		{name: "url with credentials", change: withURL("https://user:pass@example.com/hooks"), field: "url"},
		{name: "url with fragment", change: withURL("https://example.com/hooks#part"), field: "url"},
		{name: "url with empty fragment", change: withURL("https://example.com/hooks#"), field: "url"},
		{name: "url that does not parse", change: withURL("https://exa mple.com/"), field: "url"},
		{
			name:   "url over 2048 characters",
			change: withURL("https://example.com/" + strings.Repeat("a", 2029)),
			field:  "url",
		},
		{
			name:   "description over 1024 characters",
			change: func(in *client.EndpointInput) { in.Description = new(strings.Repeat("d", 1025)) },
			field:  "description",
		},
		{name: "event type with empty segment", change: withEventTypes("invoice..paid"), field: "event_types[0]"},
		{name: "event type with space", change: withEventTypes("invoice.paid", "in voice"), field: "event_types[1]"},
		{name: "wildcard not at the end", change: withEventTypes("*.x"), field: "event_types[0]"},
		{name: "wildcard alone after a dot", change: withEventTypes(".*"), field: "event_types[0]"},
		{name: "empty event type", change: withEventTypes(""), field: "event_types[0]"},
		{name: "101 event types", change: withEventTypes(tooManyEventTypes...), field: "event_types"},
		// The spec bounds every item at 256 characters, wildcard included.
		{
			name:   "event type filter over 256 characters",
			change: withEventTypes(strings.Repeat("a", 255) + ".*"),
			field:  "event_types[0]",
		},
		{name: "header Connection", change: withHeaders(client.Headers{"Connection": "close"}), field: "headers.Connection"},
		{
			name:   "header Transfer-Encoding",
			change: withHeaders(client.Headers{"Transfer-Encoding": "chunked"}),
			field:  "headers.Transfer-Encoding",
		},
		{name: "header Host", change: withHeaders(client.Headers{"Host": "evil.example"}), field: "headers.Host"},
		{
			name:   "header Content-Type",
			change: withHeaders(client.Headers{"Content-Type": "text/plain"}),
			field:  "headers.Content-Type",
		},
		{
			name:   "header content-length",
			change: withHeaders(client.Headers{"content-length": "1"}),
			field:  "headers.content-length",
		},
		{name: "header webhook-id", change: withHeaders(client.Headers{"webhook-id": "x"}), field: "headers.webhook-id"},
		{
			name:   "header Webhook-Signature",
			change: withHeaders(client.Headers{"Webhook-Signature": "v1,x"}),
			field:  "headers.Webhook-Signature",
		},
		{name: "invalid header name", change: withHeaders(client.Headers{"bad header": "x"}), field: "headers.bad header"},
		{
			name:   "header value with a line break",
			change: withHeaders(client.Headers{"X-Evil": "a\r\nHost: evil.example"}),
			field:  "headers.X-Evil",
		},
		{
			name:   "header value over 4096 bytes",
			change: withHeaders(client.Headers{"X-Big": strings.Repeat("v", 4097)}),
			field:  "headers.X-Big",
		},
		{
			name:   "header names differing in case",
			change: withHeaders(client.Headers{"X-Token": "a", "x-token": "b"}),
			field:  "headers.x-token",
		},
		{name: "21 headers", change: withHeaders(tooManyHeaders), field: "headers"},
		{
			name:   "disabled reason over 512 characters",
			change: func(in *client.EndpointInput) { in.DisabledReason = new(strings.Repeat("r", 513)) },
			field:  "disabled_reason",
		},
		// PostgreSQL keeps no NUL in text: the API must refuse it instead
		// of failing to store it.
		{
			name:   "NUL in the description",
			change: func(in *client.EndpointInput) { in.Description = new("a\x00b") },
			field:  "description",
		},
		{
			name:   "NUL in the disabled reason",
			change: func(in *client.EndpointInput) { in.Disabled, in.DisabledReason = new(true), new("a\x00b") },
			field:  "disabled_reason",
		},
	}
}

// secretRules are the rules that only creation checks: a patch cannot set
// the secret.
func secretRules() []endpointRule {
	withSecret := func(s string) func(*client.EndpointInput) {
		return func(in *client.EndpointInput) { in.Secret = &s }
	}

	return []endpointRule{
		{name: "secret without prefix", change: withSecret("nope"), field: "secret"},
		{name: "secret not base64", change: withSecret("whsec_!!!"), field: "secret"},
		{name: "secret of 16 bytes", change: withSecret("whsec_" + strings.Repeat("A", 22)), field: "secret"},
		{name: "secret of 65 bytes", change: withSecret("whsec_" + strings.Repeat("A", 87)), field: "secret"},
		{name: "secret with only a prefix", change: withSecret("whsec_"), field: "secret"},
	}
}

func validEndpointInput() client.EndpointInput {
	return client.EndpointInput{
		Url:         "https://example.com/hooks",
		Description: new("Billing"),
		EventTypes:  &[]string{"invoice.paid"},
		Headers:     &client.Headers{"X-Token": "t"},
	}
}

func TestCreateEndpointValidation(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme", client.TenantInput{})

	for _, tt := range append(endpointRules(), secretRules()...) {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			in := validEndpointInput()
			tt.change(&in)

			res, err := b.client.CreateEndpointWithResponse(t.Context(), "acme", in)
			require.NoError(t, err)

			p := requireProblem(t, res, http.StatusUnprocessableEntity, "validation", tt.field)
			require.Len(t, *p.Errors, 1, "one broken rule, one error: %s", res.Body)
			require.NotNil(t, res.ApplicationproblemJSON422)

			if in.Secret != nil {
				if key := strings.TrimPrefix(*in.Secret, "whsec_"); key != "" {
					require.NotContains(t, string(res.Body), key, "a refused secret is echoed")
				}
			}
		})
	}

	// Nothing was created along the way.
	list, err := b.client.ListEndpointsWithResponse(t.Context(), "acme", nil)
	require.NoError(t, err)
	require.Empty(t, list.JSON200.Data)
}

func TestUpdateEndpointValidation(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme", client.TenantInput{})
	ep := b.createEndpoint(t, "acme", validEndpointInput())

	for _, tt := range endpointRules() {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			in := validEndpointInput()
			tt.change(&in)

			res, err := b.client.UpdateEndpointWithResponse(t.Context(), "acme", ep.Id, client.EndpointPatch{
				Url:            &in.Url,
				Description:    in.Description,
				EventTypes:     in.EventTypes,
				Headers:        in.Headers,
				Disabled:       in.Disabled,
				DisabledReason: in.DisabledReason,
			})
			require.NoError(t, err)

			p := requireProblem(t, res, http.StatusUnprocessableEntity, "validation", tt.field)
			require.Len(t, *p.Errors, 1, "one broken rule, one error: %s", res.Body)
		})
	}

	t.Run("only the broken field sent", func(t *testing.T) {
		t.Parallel()

		res, err := b.client.UpdateEndpointWithResponse(t.Context(), "acme", ep.Id, client.EndpointPatch{
			Headers: &client.Headers{"Connection": "close"},
		})
		require.NoError(t, err)
		requireProblem(t, res, http.StatusUnprocessableEntity, "validation", "headers.Connection")
	})
}

func TestEndpointValidationEveryRule(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme", client.TenantInput{})

	res, err := b.client.CreateEndpointWithResponse(t.Context(), "acme", client.EndpointInput{
		Url:            "ftp://example.com",
		Description:    new(strings.Repeat("d", 1025)),
		EventTypes:     &[]string{"ok.event", "bad..event"},
		Headers:        &client.Headers{"Host": "x", "Connection": "y"},
		DisabledReason: new(strings.Repeat("r", 513)),
		Secret:         new("nope"),
	})
	require.NoError(t, err)

	p := requireProblem(t, res, http.StatusUnprocessableEntity, "validation", "url")

	fields := make([]string, 0, len(*p.Errors))
	for _, f := range *p.Errors {
		require.NotEmpty(t, f.Detail)
		fields = append(fields, f.Field)
	}

	require.Equal(t, []string{
		"url", "description", "disabled_reason", "event_types[1]",
		"headers.Connection", "headers.Host", "secret",
	}, fields)
}

func TestEndpointAtTheLimits(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme", client.TenantInput{})

	headers := client.Headers{}
	for i := range 20 {
		headers[fmt.Sprintf("X-Header-%02d", i)] = strings.Repeat("v", 200)
	}

	eventTypes := make([]string, 100)
	for i := range eventTypes {
		eventTypes[i] = fmt.Sprintf("event-%d.*", i)
	}

	in := client.EndpointInput{
		Url:            "https://example.com/" + strings.Repeat("a", 2028),
		Description:    new(strings.Repeat("é", 1024)),
		EventTypes:     &eventTypes,
		Headers:        &headers,
		Disabled:       new(true),
		DisabledReason: new(strings.Repeat("é", 512)),
	}
	require.Len(t, in.Url, 2048)

	ep := b.createEndpoint(t, "acme", in)
	require.Equal(t, in.Url, ep.Url)
	require.Equal(t, eventTypes, ep.EventTypes)
	require.Equal(t, headers, ep.Headers)
	require.Equal(t, in.DisabledReason, ep.DisabledReason)

	// Wildcards and the headers a receiver may want are allowed.
	ep = b.createEndpoint(t, "acme", client.EndpointInput{
		Url:        "HTTPS://Example.com",
		EventTypes: &[]string{"*", "a.*", "A_b-C.d-1"},
		Headers:    &client.Headers{"Authorization": "Bearer x", "X-Tab": "a\tb", "User-Agent": "mine"},
	})
	require.Equal(t, []string{"*", "a.*", "A_b-C.d-1"}, ep.EventTypes)
}
