package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/client"
)

// unknownField is a member that no request body has.
const unknownField = "colour" //nolint:misspell // the British spelling is as unknown as any

// bodyRoute is a route that reads a JSON body.
type bodyRoute struct {
	method string
	path   string
	valid  string // a body the route accepts
}

// bodyRoutes returns the routes with a body, on a tenant, an endpoint and
// a message that exist. b must be able to publish, as from [setupSupport].
func bodyRoutes(t *testing.T, b *testBundle) []bodyRoute {
	t.Helper()

	b.putTenant(t, "acme", client.TenantInput{})
	ep := b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/hooks"})
	m := b.publish(t, invoicePaid(""))
	since := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)

	return []bodyRoute{
		{http.MethodPut, "/v1/tenants/acme", `{"name":"Acme"}`},
		{http.MethodPost, "/v1/tenants/acme/endpoints", `{"url":"https://example.com/hooks"}`},
		{http.MethodPatch, "/v1/tenants/acme/endpoints/" + ep.Id, `{"description":"x"}`},
		{http.MethodPost, "/v1/tenants/acme/endpoints/" + ep.Id + "/secret/rotate", `{}`},
		{http.MethodPost, "/v1/tenants/acme/endpoints/" + ep.Id + "/recover", `{"since":"` + since + `"}`},
		{http.MethodPost, "/v1/tenants/acme/messages/" + m.Id + "/endpoints/" + ep.Id + "/resend", `{}`},
	}
}

func TestBodyProblems(t *testing.T) {
	t.Parallel()

	b, _ := setupSupport(t)
	routes := bodyRoutes(t, b)

	tests := []struct {
		name   string
		body   string
		status int
		kind   string
		field  string
	}{
		{name: "malformed JSON", body: `{"name":`, status: 400, kind: "invalid-request"},
		{name: "not JSON", body: `name=Acme`, status: 400, kind: "invalid-request"},
		{name: "unquoted member name", body: `{name: "x"}`, status: 400, kind: "invalid-request"},
		{
			name: "unknown field", body: `{"` + unknownField + `":"red"}`,
			status: 400, kind: "invalid-request", field: unknownField,
		},
		{name: "two JSON values", body: `{} {}`, status: 400, kind: "invalid-request"},
		{name: "trailing garbage", body: `{}x`, status: 400, kind: "invalid-request"},
		{name: "array instead of object", body: `[]`, status: 400, kind: "invalid-request"},
		{name: "string instead of object", body: `"x"`, status: 400, kind: "invalid-request"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			for _, route := range routes {
				res := b.do(t, route.method, route.path, tt.body)
				p := requireProblem(t, res, tt.status, tt.kind, tt.field)
				require.NotContains(t, p.Detail, "\n", "%s %s", route.method, route.path)
			}
		})
	}

	t.Run("valid bodies", func(t *testing.T) {
		t.Parallel()

		for _, route := range routes {
			res := b.do(t, route.method, route.path, route.valid)
			require.Less(t, res.status, 300, "%s %s: %s", route.method, route.path, res.body)
		}
	})
}

func TestBodyWrongTypes(t *testing.T) {
	t.Parallel()

	b, _ := setupSupport(t)
	routes := bodyRoutes(t, b)
	put, create, patch, rotate, recovery := routes[0], routes[1], routes[2], routes[3], routes[4]

	tests := []struct {
		route bodyRoute
		body  string
		field string
	}{
		{route: create, body: `{"url":5}`, field: "url"},
		{route: create, body: `{"url":"https://example.com","disabled":"yes"}`, field: "disabled"},
		{route: create, body: `{"url":"https://example.com","event_types":"x"}`, field: "event_types"},
		{route: create, body: `{"url":"https://example.com","headers":["x"]}`, field: "headers"},
		{route: create, body: `{"url":"https://example.com","description":false}`, field: "description"},
		{route: create, body: `{"url":"https://example.com","secret":1}`, field: "secret"},
		{route: patch, body: `{"url":5}`, field: "url"},
		{route: patch, body: `{"disabled":"yes"}`, field: "disabled"},
		{route: patch, body: `{"event_types":"x"}`, field: "event_types"},
		{route: patch, body: `{"disabled_reason":{}}`, field: "disabled_reason"},
		{route: put, body: `{"name":5}`, field: "name"},
		{route: put, body: `{"metadata":"x"}`, field: "metadata"},
		{route: rotate, body: `{"key":true}`, field: "key"},
		{route: recovery, body: `{"since":5}`, field: "since"},
		{route: recovery, body: `{"since":"2026-01-01T00:00:00Z","until":[]}`, field: "until"},
	}

	for _, tt := range tests {
		t.Run(tt.route.method+" "+tt.body, func(t *testing.T) {
			t.Parallel()

			res := b.do(t, tt.route.method, tt.route.path, tt.body)
			p := requireProblem(t, res, http.StatusBadRequest, "invalid-request", tt.field)
			require.Contains(t, p.Detail, tt.field)
		})
	}

	t.Run("unknown field on every route", func(t *testing.T) {
		t.Parallel()

		for _, route := range routes {
			body := strings.Replace(route.valid, "{", `{"`+unknownField+`":"red",`, 1)
			body = strings.Replace(body, ",}", "}", 1)

			res := b.do(t, route.method, route.path, body)
			p := requireProblem(t, res, http.StatusBadRequest, "invalid-request", unknownField)
			require.Contains(t, p.Detail, unknownField)
		}
	})

	t.Run("secret is no field of a patch", func(t *testing.T) {
		t.Parallel()

		res := b.do(t, patch.method, patch.path, `{"secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}`)
		requireProblem(t, res, http.StatusBadRequest, "invalid-request", "secret")
		require.NotContains(t, string(res.body), "whsec_")
	})
}

func TestBodyTooLarge(t *testing.T) {
	t.Parallel()

	b, _ := setupSupport(t)
	routes := bodyRoutes(t, b)

	const limit = 64 << 10

	for _, route := range routes {
		// Valid JSON padded with spaces: only the size is wrong.
		over := route.valid + strings.Repeat(" ", limit+1-len(route.valid))

		res := b.do(t, route.method, route.path, over)
		p := requireProblem(t, res, http.StatusRequestEntityTooLarge, "payload-too-large", "")
		require.Contains(t, p.Detail, "64 KiB")
	}

	// A body of exactly the limit is read.
	put := routes[0]
	exact := put.valid + strings.Repeat(" ", limit-len(put.valid))

	res := b.do(t, put.method, put.path, exact)
	require.Equal(t, http.StatusOK, res.status, "body: %s", res.body)

	// A large body through the generated client too.
	big, err := b.client.PutTenantWithResponse(t.Context(), "big", client.TenantInput{
		Name: new(strings.Repeat("n", limit)),
	})
	require.NoError(t, err)
	requireProblem(t, big, http.StatusRequestEntityTooLarge, "payload-too-large", "")
	require.NotNil(t, big.ApplicationproblemJSON413)
}

func TestBodyLimitConfigured(t *testing.T) {
	t.Parallel()

	b := setupWithOpts(t, setupOpts{maxBodyBytes: 1000})

	over := `{"name":"` + strings.Repeat("n", 1000) + `"}`
	res := b.do(t, http.MethodPut, "/v1/tenants/acme", over)
	p := requireProblem(t, res, http.StatusRequestEntityTooLarge, "payload-too-large", "")
	require.Contains(t, p.Detail, "1000 bytes")

	exact := `{"name":"Acme"}` + strings.Repeat(" ", 1000-len(`{"name":"Acme"}`))
	res = b.do(t, http.MethodPut, "/v1/tenants/acme", exact)
	require.Equal(t, http.StatusCreated, res.status, "body: %s", res.body)
}

func TestBodyMediaType(t *testing.T) {
	t.Parallel()

	b, _ := setupSupport(t)
	routes := bodyRoutes(t, b)

	for _, contentType := range []string{
		"text/plain", "application/x-www-form-urlencoded", "application/xml", "json", "application/json; charset",
	} {
		for _, route := range routes {
			res := b.do(t, route.method, route.path, route.valid, withHeader("Content-Type", contentType))
			requireProblem(t, res, http.StatusUnsupportedMediaType, "unsupported-media-type", "")
		}
	}

	// JSON with parameters, a +json type, and no type at all are read.
	for _, contentType := range []string{"application/json; charset=utf-8", "Application/JSON", "application/merge-patch+json", ""} {
		for _, route := range routes {
			res := b.do(t, route.method, route.path, route.valid, withHeader("Content-Type", contentType))
			require.Less(t, res.status, 300, "%s %s as %q: %s", route.method, route.path, contentType, res.body)
		}
	}

	t.Run("through the client", func(t *testing.T) {
		t.Parallel()

		res, err := b.client.PutTenantWithBodyWithResponse(t.Context(), "acme", "text/plain", strings.NewReader(`{}`))
		require.NoError(t, err)
		requireProblem(t, res, http.StatusUnsupportedMediaType, "unsupported-media-type", "")
		require.NotNil(t, res.ApplicationproblemJSON415)
	})
}

func TestBodyRequired(t *testing.T) {
	t.Parallel()

	b, _ := setupSupport(t)
	routes := bodyRoutes(t, b)
	create, patch, recovery := routes[1], routes[2], routes[4]

	for _, route := range []bodyRoute{create, patch, recovery} {
		for _, body := range []string{"", " \n\t "} {
			res := b.do(t, route.method, route.path, body)
			p := requireProblem(t, res, http.StatusBadRequest, "invalid-request", "")
			require.Contains(t, p.Detail, "body")
		}
	}

	res, err := b.client.CreateEndpointWithBodyWithResponse(t.Context(), "acme", "application/json", nil)
	require.NoError(t, err)
	requireProblem(t, res, http.StatusBadRequest, "invalid-request", "")
	require.NotNil(t, res.ApplicationproblemJSON400)
}
