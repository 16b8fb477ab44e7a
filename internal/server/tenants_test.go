package server_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/client"
)

// putTenant creates or updates a tenant through the API and returns it.
func (b *testBundle) putTenant(t *testing.T, id string, in client.TenantInput) client.Tenant {
	t.Helper()

	res, err := b.client.PutTenantWithResponse(t.Context(), id, in)
	require.NoError(t, err)

	switch res.StatusCode() {
	case http.StatusCreated:
		return *res.JSON201
	case http.StatusOK:
		return *res.JSON200
	}

	require.FailNow(t, "put tenant", "status %d: %s", res.StatusCode(), res.Body)

	return client.Tenant{}
}

func TestPutTenant(t *testing.T) {
	t.Parallel()

	b := setup(t)
	before := time.Now()

	created, err := b.client.PutTenantWithResponse(t.Context(), "acme-42", client.TenantInput{
		Name:     new("Acme"),
		Metadata: &client.Metadata{"plan": "pro", "region": "eu"},
	})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, created.StatusCode(), "body: %s", created.Body)
	require.Equal(t, "application/json", created.ContentType())

	first := *created.JSON201
	require.Equal(t, "acme-42", first.Id)
	require.Equal(t, "Acme", first.Name)
	require.Equal(t, client.Metadata{"plan": "pro", "region": "eu"}, first.Metadata)
	require.WithinRange(t, first.CreatedAt, before.Add(-time.Second), time.Now())
	require.Equal(t, first.CreatedAt, first.UpdatedAt)

	updated, err := b.client.PutTenantWithResponse(t.Context(), "acme-42", client.TenantInput{
		Name:     new("Acme Corp"),
		Metadata: &client.Metadata{"plan": "enterprise"},
	})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, updated.StatusCode(), "body: %s", updated.Body)

	second := *updated.JSON200
	require.Equal(t, "acme-42", second.Id)
	require.Equal(t, "Acme Corp", second.Name)
	require.Equal(t, client.Metadata{"plan": "enterprise"}, second.Metadata, "metadata is replaced, not merged")
	require.True(t, first.CreatedAt.Equal(second.CreatedAt), "created_at moved")
	require.False(t, second.UpdatedAt.Before(first.UpdatedAt), "updated_at went back")

	got, err := b.client.GetTenantWithResponse(t.Context(), "acme-42")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, got.StatusCode())
	require.Equal(t, second.Name, got.JSON200.Name)
	require.Equal(t, second.Metadata, got.JSON200.Metadata)
	require.True(t, second.CreatedAt.Equal(got.JSON200.CreatedAt))
	require.True(t, second.UpdatedAt.Equal(got.JSON200.UpdatedAt))
}

func TestPutTenantWithoutBody(t *testing.T) {
	t.Parallel()

	b := setup(t)

	res, err := b.client.PutTenantWithBodyWithResponse(t.Context(), "acme", "", nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, res.StatusCode(), "body: %s", res.Body)
	require.Equal(t, "acme", res.JSON201.Id)
	require.Empty(t, res.JSON201.Name)
	require.NotNil(t, res.JSON201.Metadata)
	require.Empty(t, res.JSON201.Metadata)

	// The JSON keeps every member, even when empty.
	require.JSONEq(t, fmt.Sprintf(
		`{"id":"acme","name":"","metadata":{},"created_at":%q,"updated_at":%q}`,
		res.JSON201.CreatedAt.Format(time.RFC3339Nano), res.JSON201.UpdatedAt.Format(time.RFC3339Nano),
	), string(res.Body))

	// An empty body on an existing tenant is an update to an empty name.
	b.putTenant(t, "acme", client.TenantInput{Name: new("Acme")})

	again := b.do(t, http.MethodPut, "/v1/tenants/acme", "")
	require.Equal(t, http.StatusOK, again.status, "body: %s", again.body)
	require.Contains(t, string(again.body), `"name":""`)
}

func TestGetTenantUnknown(t *testing.T) {
	t.Parallel()

	b := setup(t)

	res, err := b.client.GetTenantWithResponse(t.Context(), "nobody")
	require.NoError(t, err)

	p := requireProblem(t, res, http.StatusNotFound, "not-found", "")
	require.Contains(t, p.Detail, `"nobody"`)
	require.NotNil(t, res.ApplicationproblemJSON404)
}

func TestDeleteTenant(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme", client.TenantInput{})
	ep := b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/hooks"})

	del, err := b.client.DeleteTenantWithResponse(t.Context(), "acme")
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, del.StatusCode())
	require.Empty(t, del.Body)

	got, err := b.client.GetTenantWithResponse(t.Context(), "acme")
	require.NoError(t, err)
	requireProblem(t, got, http.StatusNotFound, "not-found", "")

	again, err := b.client.DeleteTenantWithResponse(t.Context(), "acme")
	require.NoError(t, err)
	p := requireProblem(t, again, http.StatusNotFound, "not-found", "")
	require.Contains(t, p.Detail, `"acme"`)

	list, err := b.client.ListEndpointsWithResponse(t.Context(), "acme", nil)
	require.NoError(t, err)
	requireProblem(t, list, http.StatusNotFound, "not-found", "")

	// A tenant made again with the same id does not get the old endpoints.
	b.putTenant(t, "acme", client.TenantInput{})

	gotEP, err := b.client.GetEndpointWithResponse(t.Context(), "acme", ep.Id)
	require.NoError(t, err)
	p = requireProblem(t, gotEP, http.StatusNotFound, "not-found", "")
	require.Contains(t, p.Detail, ep.Id)

	list, err = b.client.ListEndpointsWithResponse(t.Context(), "acme", nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, list.StatusCode())
	require.Empty(t, list.JSON200.Data)
	require.Nil(t, list.JSON200.NextCursor)
}

func TestListTenants(t *testing.T) {
	t.Parallel()

	b := setup(t)

	// Made out of order; listed in byte order of the id.
	ids := []string{"t-5", "T-1", "t-3", "t_0", "t-1", "t.2", "t-4"}
	for _, id := range ids {
		b.putTenant(t, id, client.TenantInput{Name: new("tenant " + id)})
	}

	var (
		seen   []string
		cursor *string
		pages  int
	)

	for {
		res, err := b.client.ListTenantsWithResponse(t.Context(), &client.ListTenantsParams{
			Limit: new(3), Cursor: cursor,
		})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		require.LessOrEqual(t, len(res.JSON200.Data), 3)

		for _, tenant := range res.JSON200.Data {
			require.Equal(t, "tenant "+tenant.Id, tenant.Name)
			seen = append(seen, tenant.Id)
		}

		pages++
		require.Less(t, pages, 10, "the cursor does not move on")

		if res.JSON200.NextCursor == nil {
			require.NotContains(t, string(res.Body), "next_cursor")
			break
		}

		require.Len(t, res.JSON200.Data, 3, "a page before the last is full")
		cursor = res.JSON200.NextCursor
	}

	want := slices.Clone(ids)
	slices.Sort(want)
	require.Equal(t, want, seen, "every tenant once, in ascending order of id")
	require.Equal(t, 3, pages)

	// Without a limit, everything fits one page of the default size.
	all, err := b.client.ListTenantsWithResponse(t.Context(), nil)
	require.NoError(t, err)
	require.Len(t, all.JSON200.Data, len(ids))
	require.Nil(t, all.JSON200.NextCursor)

	// A limit equal to the count leaves no next page.
	exact, err := b.client.ListTenantsWithResponse(t.Context(), &client.ListTenantsParams{Limit: new(len(ids))})
	require.NoError(t, err)
	require.Len(t, exact.JSON200.Data, len(ids))
	require.Nil(t, exact.JSON200.NextCursor)

	// The largest limit is allowed.
	largest, err := b.client.ListTenantsWithResponse(t.Context(), &client.ListTenantsParams{Limit: new(250)})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, largest.StatusCode())
}

func TestListTenantsEmpty(t *testing.T) {
	t.Parallel()

	b := setup(t)

	res, err := b.client.ListTenantsWithResponse(t.Context(), nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode())
	require.JSONEq(t, `{"data":[]}`, string(res.Body))
}

func TestListBadPage(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme", client.TenantInput{})

	tests := []struct {
		name  string
		query string
		field string
	}{
		{name: "limit 0", query: "limit=0", field: "limit"},
		{name: "limit 251", query: "limit=251", field: "limit"},
		{name: "negative limit", query: "limit=-1", field: "limit"},
		{name: "limit not a number", query: "limit=abc", field: "limit"},
		{name: "limit too big for an int", query: "limit=99999999999999999999", field: "limit"},
		{name: "cursor not base64", query: "cursor=%21%21%21", field: "cursor"},
		{name: "cursor of padded base64", query: "cursor=YQ%3D%3D", field: "cursor"},
		// A cursor this API returned always holds an id: UTF-8 without NUL.
		{name: "cursor of a NUL byte", query: "cursor=AA", field: "cursor"},
		{name: "cursor of invalid UTF-8", query: "cursor=_w", field: "cursor"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			for _, path := range []string{"/v1/tenants", "/v1/tenants/acme/endpoints"} {
				res := b.do(t, http.MethodGet, path+"?"+tt.query, "")
				requireProblem(t, res, http.StatusBadRequest, "invalid-parameter", tt.field)
			}
		})
	}

	t.Run("through the client", func(t *testing.T) {
		t.Parallel()

		res, err := b.client.ListTenantsWithResponse(t.Context(), &client.ListTenantsParams{Limit: new(0)})
		require.NoError(t, err)
		requireProblem(t, res, http.StatusBadRequest, "invalid-parameter", "limit")
		require.NotNil(t, res.ApplicationproblemJSON400)

		garbage := "not a cursor!"
		eps, err := b.client.ListEndpointsWithResponse(t.Context(), "acme", &client.ListEndpointsParams{
			Cursor: &garbage,
		})
		require.NoError(t, err)
		requireProblem(t, eps, http.StatusBadRequest, "invalid-parameter", "cursor")
	})

	t.Run("every broken parameter", func(t *testing.T) {
		t.Parallel()

		res := b.do(t, http.MethodGet, "/v1/tenants?limit=0&cursor=%21", "")
		p := requireProblem(t, res, http.StatusBadRequest, "invalid-parameter", "limit")
		require.Len(t, *p.Errors, 2)
		require.Equal(t, "cursor", (*p.Errors)[1].Field)
	})
}

func TestTenantIDValidation(t *testing.T) {
	t.Parallel()

	b := setup(t)

	tests := []struct {
		name string
		id   string
	}{
		{name: "129 characters", id: strings.Repeat("a", 129)},
		{name: "space", id: "a b"},
		{name: "non-ASCII letter", id: "ä"},
		{name: "slash", id: "a/b"},
		{name: "percent", id: "a%b"},
		{name: "colon", id: "a:b"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			put, err := b.client.PutTenantWithResponse(t.Context(), tt.id, client.TenantInput{})
			require.NoError(t, err)
			requireProblem(t, put, http.StatusBadRequest, "invalid-parameter", "tenant_id")

			get, err := b.client.GetTenantWithResponse(t.Context(), tt.id)
			require.NoError(t, err)
			requireProblem(t, get, http.StatusBadRequest, "invalid-parameter", "tenant_id")

			del, err := b.client.DeleteTenantWithResponse(t.Context(), tt.id)
			require.NoError(t, err)
			requireProblem(t, del, http.StatusBadRequest, "invalid-parameter", "tenant_id")

			list, err := b.client.ListEndpointsWithResponse(t.Context(), tt.id, nil)
			require.NoError(t, err)
			requireProblem(t, list, http.StatusBadRequest, "invalid-parameter", "tenant_id")

			create, err := b.client.CreateEndpointWithResponse(t.Context(), tt.id, client.EndpointInput{
				Url: "https://example.com/hooks",
			})
			require.NoError(t, err)
			requireProblem(t, create, http.StatusBadRequest, "invalid-parameter", "tenant_id")

			ep, err := b.client.GetEndpointWithResponse(t.Context(), tt.id, "ep_01jbq6q6ffe5x9qf2a8n1c3m4z")
			require.NoError(t, err)
			requireProblem(t, ep, http.StatusBadRequest, "invalid-parameter", "tenant_id")
		})
	}

	// Nothing was created along the way.
	list, err := b.client.ListTenantsWithResponse(t.Context(), nil)
	require.NoError(t, err)
	require.Empty(t, list.JSON200.Data)

	t.Run("escaped by hand", func(t *testing.T) {
		t.Parallel()

		for _, path := range []string{"a%2Fb", "a%20b", "%C3%A4", "a%2F..%2Fb", strings.Repeat("%61", 129)} {
			res := b.do(t, http.MethodGet, "/v1/tenants/"+path, "")
			requireProblem(t, res, http.StatusBadRequest, "invalid-parameter", "tenant_id")
		}
	})

	t.Run("128 characters", func(t *testing.T) {
		t.Parallel()

		id := strings.Repeat("b", 128)
		require.Equal(t, id, b.putTenant(t, id, client.TenantInput{}).Id)
	})
}

// TestTenantIDDotSegments: "." and ".." match the id pattern, but RFC 3986
// clients remove them from a path before sending it (the generated client
// among them), so a tenant with such an id could be made with a raw
// request yet never be read back. The API should refuse them.
func TestTenantIDDotSegments(t *testing.T) {
	t.Parallel()

	b := setup(t)

	for _, id := range []string{".", ".."} {
		res := b.do(t, http.MethodPut, "/v1/tenants/"+id, "")
		requireProblem(t, res, http.StatusBadRequest, "invalid-parameter", "tenant_id")
	}
}

func TestTenantValidation(t *testing.T) {
	t.Parallel()

	b := setup(t)

	tooMany := client.Metadata{}
	for i := range 33 {
		tooMany[fmt.Sprintf("key-%02d", i)] = "v"
	}

	tests := []struct {
		name  string
		in    client.TenantInput
		field string
	}{
		{name: "name over 256 characters", in: client.TenantInput{Name: new(strings.Repeat("n", 257))}, field: "name"},
		{name: "33 metadata keys", in: client.TenantInput{Metadata: &tooMany}, field: "metadata"},
		{name: "empty metadata key", in: client.TenantInput{Metadata: &client.Metadata{"": "v"}}, field: "metadata"},
		{
			name:  "metadata key over 64 characters",
			in:    client.TenantInput{Metadata: &client.Metadata{strings.Repeat("k", 65): "v"}},
			field: "metadata",
		},
		{
			name:  "metadata value over 512 characters",
			in:    client.TenantInput{Metadata: &client.Metadata{"plan": strings.Repeat("v", 513)}},
			field: "metadata.plan",
		},
		// PostgreSQL keeps no NUL in text or jsonb: the API must refuse it
		// instead of failing to store it.
		{name: "NUL in the name", in: client.TenantInput{Name: new("Ac\x00me")}, field: "name"},
		{
			name:  "NUL in a metadata value",
			in:    client.TenantInput{Metadata: &client.Metadata{"plan": "p\x00ro"}},
			field: "metadata.plan",
		},
		{name: "NUL in a metadata key", in: client.TenantInput{Metadata: &client.Metadata{"pl\x00an": "pro"}}, field: "metadata"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			res, err := b.client.PutTenantWithResponse(t.Context(), "acme", tt.in)
			require.NoError(t, err)
			requireProblem(t, res, http.StatusUnprocessableEntity, "validation", tt.field)
			require.NotNil(t, res.ApplicationproblemJSON422)
		})
	}

	t.Run("at the limits", func(t *testing.T) {
		t.Parallel()

		most := client.Metadata{}
		for i := range 32 {
			most[fmt.Sprintf("key-%02d-%s", i, strings.Repeat("k", 57))] = strings.Repeat("é", 512)
		}

		tenant := b.putTenant(t, "at-the-limits", client.TenantInput{
			Name: new(strings.Repeat("é", 256)), Metadata: &most,
		})
		require.Equal(t, most, tenant.Metadata)
	})

	t.Run("every broken rule", func(t *testing.T) {
		t.Parallel()

		res, err := b.client.PutTenantWithResponse(t.Context(), "acme", client.TenantInput{
			Name:     new(strings.Repeat("n", 257)),
			Metadata: &client.Metadata{"a": strings.Repeat("v", 513), "b": strings.Repeat("v", 513)},
		})
		require.NoError(t, err)

		p := requireProblem(t, res, http.StatusUnprocessableEntity, "validation", "name")
		fields := make([]string, 0, len(*p.Errors))
		for _, f := range *p.Errors {
			require.NotEmpty(t, f.Detail)
			fields = append(fields, f.Field)
		}
		require.Equal(t, []string{"name", "metadata.a", "metadata.b"}, fields)
	})
}
