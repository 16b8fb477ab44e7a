package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/client"
)

// unknownEndpointID is a well-formed endpoint id that no endpoint has.
const unknownEndpointID = "ep_01jbq6q6ffe5x9qf2a8n1c3m4z"

// createEndpoint creates an endpoint through the API and returns it.
func (b *testBundle) createEndpoint(t *testing.T, tenantID string, in client.EndpointInput) client.Endpoint {
	t.Helper()

	res, err := b.client.CreateEndpointWithResponse(t.Context(), tenantID, in)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, res.StatusCode(), "body: %s", res.Body)

	return *res.JSON201
}

// patchEndpoint updates an endpoint through the API and returns it.
func (b *testBundle) patchEndpoint(t *testing.T, tenantID, id string, patch client.EndpointPatch) client.Endpoint {
	t.Helper()

	res, err := b.client.UpdateEndpointWithResponse(t.Context(), tenantID, id, patch)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)

	return *res.JSON200
}

func TestCreateEndpoint(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme", client.TenantInput{})
	before := time.Now()

	res, err := b.client.CreateEndpointWithResponse(t.Context(), "acme", client.EndpointInput{
		Url: "https://example.com/hooks",
	})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, res.StatusCode(), "body: %s", res.Body)

	ep := *res.JSON201
	require.True(t, strings.HasPrefix(ep.Id, "ep_"), "id %q", ep.Id)
	require.Equal(t, "acme", ep.TenantId)
	require.Equal(t, "https://example.com/hooks", ep.Url)
	require.Empty(t, ep.Description)
	require.Equal(t, []string{}, ep.EventTypes)
	require.Equal(t, client.Headers{}, ep.Headers)
	require.False(t, ep.Disabled)
	require.Nil(t, ep.DisabledReason)
	require.WithinRange(t, ep.CreatedAt, before.Add(-time.Second), time.Now())
	require.Equal(t, ep.CreatedAt, ep.UpdatedAt)

	// The defaults are in the JSON as empty values, not null; the reason
	// and the secret are not there at all.
	body := string(res.Body)
	require.Contains(t, body, `"event_types":[]`)
	require.Contains(t, body, `"headers":{}`)
	require.Contains(t, body, `"description":""`)
	require.NotContains(t, body, "disabled_reason")
	require.NotContains(t, body, "secret")
	require.NotContains(t, body, "whsec_")

	got, err := b.client.GetEndpointWithResponse(t.Context(), "acme", ep.Id)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, got.StatusCode())
	require.Equal(t, ep.Id, got.JSON200.Id)
	require.Equal(t, ep.Url, got.JSON200.Url)
	require.True(t, ep.CreatedAt.Equal(got.JSON200.CreatedAt))
	require.NotContains(t, string(got.Body), "whsec_")
}

func TestCreateEndpointEveryField(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme", client.TenantInput{})

	ep := b.createEndpoint(t, "acme", client.EndpointInput{
		Url:            "http://hooks.example.com:8080/in?source=herald",
		Description:    new("Billing"),
		EventTypes:     &[]string{"invoice.paid", "invoice.*", "invoice.paid", "*"},
		Headers:        &client.Headers{"X-Api-Token": "t0ken", "Authorization": "Bearer abc"},
		Disabled:       new(true),
		DisabledReason: new("not ready"),
	})
	require.Equal(t, "http://hooks.example.com:8080/in?source=herald", ep.Url)
	require.Equal(t, "Billing", ep.Description)
	require.Equal(t, []string{"invoice.paid", "invoice.*", "*"}, ep.EventTypes, "duplicates dropped, order kept")
	require.Equal(t, client.Headers{"X-Api-Token": "t0ken", "Authorization": "Bearer abc"}, ep.Headers)
	require.True(t, ep.Disabled)
	require.Equal(t, new("not ready"), ep.DisabledReason)

	got, err := b.client.GetEndpointWithResponse(t.Context(), "acme", ep.Id)
	require.NoError(t, err)
	require.Equal(t, ep.EventTypes, got.JSON200.EventTypes)
	require.Equal(t, ep.Headers, got.JSON200.Headers)
	require.Equal(t, ep.DisabledReason, got.JSON200.DisabledReason)

	// A reason is only kept while the endpoint is disabled.
	enabled := b.createEndpoint(t, "acme", client.EndpointInput{
		Url: "https://example.com/hooks", DisabledReason: new("ignored"),
	})
	require.False(t, enabled.Disabled)
	require.Nil(t, enabled.DisabledReason)
}

func TestCreateEndpointUnknownTenant(t *testing.T) {
	t.Parallel()

	b := setup(t)

	res, err := b.client.CreateEndpointWithResponse(t.Context(), "nobody", client.EndpointInput{
		Url: "https://example.com/hooks",
	})
	require.NoError(t, err)

	p := requireProblem(t, res, http.StatusNotFound, "not-found", "")
	require.Contains(t, p.Detail, `"nobody"`)
	require.NotNil(t, res.ApplicationproblemJSON404)

	list, err := b.client.ListEndpointsWithResponse(t.Context(), "nobody", nil)
	require.NoError(t, err)
	p = requireProblem(t, list, http.StatusNotFound, "not-found", "")
	require.Contains(t, p.Detail, `"nobody"`)
}

func TestListEndpoints(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme", client.TenantInput{})
	b.putTenant(t, "other", client.TenantInput{})

	created := make([]string, 0, 5)
	for i := range 5 {
		ep := b.createEndpoint(t, "acme", client.EndpointInput{Url: fmt.Sprintf("https://example.com/%d", i)})
		created = append(created, ep.Id)
	}

	b.createEndpoint(t, "other", client.EndpointInput{Url: "https://example.com/other"})

	var (
		seen   []string
		cursor *string
		pages  int
	)

	for {
		res, err := b.client.ListEndpointsWithResponse(t.Context(), "acme", &client.ListEndpointsParams{
			Limit: new(2), Cursor: cursor,
		})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)

		for _, ep := range res.JSON200.Data {
			require.Equal(t, "acme", ep.TenantId)
			require.NotContains(t, string(res.Body), "whsec_")
			seen = append(seen, ep.Id)
		}

		pages++
		require.Less(t, pages, 10, "the cursor does not move on")

		if res.JSON200.NextCursor == nil {
			break
		}

		require.Len(t, res.JSON200.Data, 2)
		cursor = res.JSON200.NextCursor
	}

	require.Equal(t, created, seen, "every endpoint of the tenant once, oldest first")
	require.Equal(t, 3, pages)

	// A tenant without endpoints has an empty list.
	b.putTenant(t, "empty", client.TenantInput{})

	empty, err := b.client.ListEndpointsWithResponse(t.Context(), "empty", nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, empty.StatusCode())
	require.JSONEq(t, `{"data":[]}`, string(empty.Body))
}

func TestUpdateEndpoint(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme", client.TenantInput{})

	ep := b.createEndpoint(t, "acme", client.EndpointInput{
		Url:         "https://example.com/hooks",
		Description: new("Billing"),
		EventTypes:  &[]string{"invoice.*"},
		Headers:     &client.Headers{"X-Token": "a"},
	})

	ep2 := b.patchEndpoint(t, "acme", ep.Id, client.EndpointPatch{Url: new("https://example.org/v2")})
	require.Equal(t, "https://example.org/v2", ep2.Url)
	require.Equal(t, "Billing", ep2.Description, "fields left out stay")
	require.Equal(t, []string{"invoice.*"}, ep2.EventTypes)
	require.Equal(t, client.Headers{"X-Token": "a"}, ep2.Headers)
	require.True(t, ep.CreatedAt.Equal(ep2.CreatedAt))
	require.False(t, ep2.UpdatedAt.Before(ep.UpdatedAt))

	ep2 = b.patchEndpoint(t, "acme", ep.Id, client.EndpointPatch{Description: new("")})
	require.Empty(t, ep2.Description)
	require.Equal(t, "https://example.org/v2", ep2.Url)

	ep2 = b.patchEndpoint(t, "acme", ep.Id, client.EndpointPatch{EventTypes: &[]string{"order.created", "order.*"}})
	require.Equal(t, []string{"order.created", "order.*"}, ep2.EventTypes)

	ep2 = b.patchEndpoint(t, "acme", ep.Id, client.EndpointPatch{EventTypes: &[]string{}})
	require.Equal(t, []string{}, ep2.EventTypes, "an empty filter means every event type")

	ep2 = b.patchEndpoint(t, "acme", ep.Id, client.EndpointPatch{Headers: &client.Headers{"X-Other": "b"}})
	require.Equal(t, client.Headers{"X-Other": "b"}, ep2.Headers, "headers are replaced, not merged")

	ep2 = b.patchEndpoint(t, "acme", ep.Id, client.EndpointPatch{Headers: &client.Headers{}})
	require.Equal(t, client.Headers{}, ep2.Headers, "an empty object removes every header")

	ep2 = b.patchEndpoint(t, "acme", ep.Id, client.EndpointPatch{Disabled: new(true), DisabledReason: new("gone")})
	require.True(t, ep2.Disabled)
	require.Equal(t, new("gone"), ep2.DisabledReason)

	// A change of another field keeps the endpoint disabled, with its reason.
	ep2 = b.patchEndpoint(t, "acme", ep.Id, client.EndpointPatch{Description: new("paused")})
	require.True(t, ep2.Disabled)
	require.Equal(t, new("gone"), ep2.DisabledReason)

	ep2 = b.patchEndpoint(t, "acme", ep.Id, client.EndpointPatch{Disabled: new(false)})
	require.False(t, ep2.Disabled)
	require.Nil(t, ep2.DisabledReason, "enabling clears the reason")
	require.NotContains(t, string(mustGetEndpoint(t, b, "acme", ep.Id)), "disabled_reason")

	// Disabling again does not bring the old reason back.
	ep2 = b.patchEndpoint(t, "acme", ep.Id, client.EndpointPatch{Disabled: new(true)})
	require.True(t, ep2.Disabled)
	require.Nil(t, ep2.DisabledReason)

	// An empty patch changes nothing the user sees.
	same := b.patchEndpoint(t, "acme", ep.Id, client.EndpointPatch{})
	require.Equal(t, ep2.Url, same.Url)
	require.Equal(t, ep2.Description, same.Description)
	require.Equal(t, ep2.EventTypes, same.EventTypes)
	require.Equal(t, ep2.Headers, same.Headers)
	require.Equal(t, ep2.Disabled, same.Disabled)

	got, err := b.client.GetEndpointWithResponse(t.Context(), "acme", ep.Id)
	require.NoError(t, err)
	require.Equal(t, same.Url, got.JSON200.Url)
	require.Equal(t, "paused", got.JSON200.Description)
	require.Equal(t, []string{}, got.JSON200.EventTypes)
	require.Equal(t, client.Headers{}, got.JSON200.Headers)
	require.True(t, got.JSON200.Disabled)
	require.True(t, same.UpdatedAt.Equal(got.JSON200.UpdatedAt))
}

// mustGetEndpoint returns the body of GET on an endpoint.
func mustGetEndpoint(t *testing.T, b *testBundle, tenantID, id string) []byte {
	t.Helper()

	res, err := b.client.GetEndpointWithResponse(t.Context(), tenantID, id)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)

	return res.Body
}

func TestUpdateEndpointRefusedLeavesItUnchanged(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme", client.TenantInput{})
	ep := b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/hooks"})

	res, err := b.client.UpdateEndpointWithResponse(t.Context(), "acme", ep.Id, client.EndpointPatch{
		Description: new("changed"),
		Url:         new("ftp://example.com"),
	})
	require.NoError(t, err)
	requireProblem(t, res, http.StatusUnprocessableEntity, "validation", "url")

	got := mustGetEndpoint(t, b, "acme", ep.Id)
	require.Contains(t, string(got), `"url":"https://example.com/hooks"`)
	require.Contains(t, string(got), `"description":""`)
}

func TestDeleteEndpoint(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme", client.TenantInput{})
	ep := b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/hooks"})
	kept := b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/kept"})

	del, err := b.client.DeleteEndpointWithResponse(t.Context(), "acme", ep.Id)
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, del.StatusCode())
	require.Empty(t, del.Body)

	for _, status := range []func() (response, error){
		func() (response, error) { return b.client.GetEndpointWithResponse(t.Context(), "acme", ep.Id) },
		func() (response, error) { return b.client.DeleteEndpointWithResponse(t.Context(), "acme", ep.Id) },
		func() (response, error) { return b.client.GetEndpointSecretWithResponse(t.Context(), "acme", ep.Id) },
		func() (response, error) {
			return b.client.UpdateEndpointWithResponse(t.Context(), "acme", ep.Id, client.EndpointPatch{})
		},
		func() (response, error) {
			return b.client.RotateEndpointSecretWithResponse(t.Context(), "acme", ep.Id, client.SecretRotation{})
		},
	} {
		res, err := status()
		require.NoError(t, err)

		p := requireProblem(t, res, http.StatusNotFound, "not-found", "")
		require.Contains(t, p.Detail, ep.Id)
	}

	list, err := b.client.ListEndpointsWithResponse(t.Context(), "acme", nil)
	require.NoError(t, err)
	require.Len(t, list.JSON200.Data, 1)
	require.Equal(t, kept.Id, list.JSON200.Data[0].Id)
}

func TestEndpointTenantIsolation(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "tenant-a", client.TenantInput{})
	b.putTenant(t, "tenant-b", client.TenantInput{})
	ep := b.createEndpoint(t, "tenant-a", client.EndpointInput{Url: "https://a.example.com/hooks"})

	// Tenant B, and a tenant that does not exist, see nothing of A's
	// endpoint and cannot change it.
	for _, other := range []string{"tenant-b", "nobody"} {
		get, err := b.client.GetEndpointWithResponse(t.Context(), other, ep.Id)
		require.NoError(t, err)
		requireProblem(t, get, http.StatusNotFound, "not-found", "")

		secret, err := b.client.GetEndpointSecretWithResponse(t.Context(), other, ep.Id)
		require.NoError(t, err)
		requireProblem(t, secret, http.StatusNotFound, "not-found", "")
		require.NotContains(t, string(secret.Body), "whsec_")

		patch, err := b.client.UpdateEndpointWithResponse(t.Context(), other, ep.Id, client.EndpointPatch{
			Url: new("https://b.example.com/stolen"),
		})
		require.NoError(t, err)
		requireProblem(t, patch, http.StatusNotFound, "not-found", "")

		rotate, err := b.client.RotateEndpointSecretWithResponse(t.Context(), other, ep.Id, client.SecretRotation{})
		require.NoError(t, err)
		requireProblem(t, rotate, http.StatusNotFound, "not-found", "")

		del, err := b.client.DeleteEndpointWithResponse(t.Context(), other, ep.Id)
		require.NoError(t, err)
		requireProblem(t, del, http.StatusNotFound, "not-found", "")
	}

	list, err := b.client.ListEndpointsWithResponse(t.Context(), "tenant-b", nil)
	require.NoError(t, err)
	require.Empty(t, list.JSON200.Data)

	// A's endpoint is as it was, and A still owns it.
	got, err := b.client.GetEndpointWithResponse(t.Context(), "tenant-a", ep.Id)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, got.StatusCode())
	require.Equal(t, "https://a.example.com/hooks", got.JSON200.Url)
	require.True(t, ep.UpdatedAt.Equal(got.JSON200.UpdatedAt))
	require.Nil(t, b.getSecret(t, "tenant-a", ep.Id).PreviousExpiresAt, "no rotation happened")

	patched := b.patchEndpoint(t, "tenant-a", ep.Id, client.EndpointPatch{Description: new("mine")})
	require.Equal(t, "mine", patched.Description)
	require.Contains(t, string(mustGetEndpoint(t, b, "tenant-a", ep.Id)), `"description":"mine"`)
}

func TestEndpointIDValidation(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme", client.TenantInput{})

	ids := []string{
		"nope",
		"ep_",
		"ep_1",
		"key_01jbq6q6ffe5x9qf2a8n1c3m4z",
		"EP_01JBQ6Q6FFE5X9QF2A8N1C3M4Z",
		"ep_01jbq6q6ffe5x9qf2a8n1c3m4z0",
		"ep 01jbq6q6ffe5x9qf2a8n1c3m4z",
		"01jbq6q6ffe5x9qf2a8n1c3m4z",
	}

	for _, id := range ids {
		t.Run(id, func(t *testing.T) {
			t.Parallel()

			get, err := b.client.GetEndpointWithResponse(t.Context(), "acme", id)
			require.NoError(t, err)
			requireProblem(t, get, http.StatusBadRequest, "invalid-parameter", "endpoint_id")

			patch, err := b.client.UpdateEndpointWithResponse(t.Context(), "acme", id, client.EndpointPatch{})
			require.NoError(t, err)
			requireProblem(t, patch, http.StatusBadRequest, "invalid-parameter", "endpoint_id")

			del, err := b.client.DeleteEndpointWithResponse(t.Context(), "acme", id)
			require.NoError(t, err)
			requireProblem(t, del, http.StatusBadRequest, "invalid-parameter", "endpoint_id")

			secret, err := b.client.GetEndpointSecretWithResponse(t.Context(), "acme", id)
			require.NoError(t, err)
			requireProblem(t, secret, http.StatusBadRequest, "invalid-parameter", "endpoint_id")

			rotate, err := b.client.RotateEndpointSecretWithResponse(t.Context(), "acme", id, client.SecretRotation{})
			require.NoError(t, err)
			requireProblem(t, rotate, http.StatusBadRequest, "invalid-parameter", "endpoint_id")
		})
	}

	t.Run("bad tenant id first", func(t *testing.T) {
		t.Parallel()

		res, err := b.client.DeleteEndpointWithResponse(t.Context(), "a b", "nope")
		require.NoError(t, err)
		requireProblem(t, res, http.StatusBadRequest, "invalid-parameter", "tenant_id")
	})

	t.Run("well-formed but unknown", func(t *testing.T) {
		t.Parallel()

		res, err := b.client.GetEndpointWithResponse(t.Context(), "acme", unknownEndpointID)
		require.NoError(t, err)

		p := requireProblem(t, res, http.StatusNotFound, "not-found", "")
		require.Contains(t, p.Detail, unknownEndpointID)
	})
}
