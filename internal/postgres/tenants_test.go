package postgres_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/subscriptions"
)

func TestPutTenantCreates(t *testing.T) {
	t.Parallel()

	b := setup(t)

	tenant, err := subscriptions.NewTenant("acme", subscriptions.TenantParams{
		Name:     "Acme Corp",
		Metadata: map[string]string{"plan": "pro", "region": "eu"},
	})
	require.NoError(t, err)

	stored, created, err := b.store.PutTenant(t.Context(), tenant)
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, tenant, stored)

	got, err := b.store.GetTenant(t.Context(), "acme")
	require.NoError(t, err)
	require.Equal(t, tenant, got)
}

func TestPutTenantUpdates(t *testing.T) {
	t.Parallel()

	b := setup(t)
	first := b.putTenant(t, "acme")

	time.Sleep(time.Millisecond) // so that the update has a later time

	update, err := subscriptions.NewTenant("acme", subscriptions.TenantParams{
		Name:     "Acme Renamed",
		Metadata: map[string]string{"plan": "enterprise"},
	})
	require.NoError(t, err)

	stored, created, err := b.store.PutTenant(t.Context(), update)
	require.NoError(t, err)
	require.False(t, created)

	want := subscriptions.Tenant{
		ID:        "acme",
		Name:      "Acme Renamed",
		Metadata:  map[string]string{"plan": "enterprise"},
		CreatedAt: first.CreatedAt,
		UpdatedAt: update.UpdatedAt,
	}
	require.Equal(t, want, stored)
	require.True(t, stored.UpdatedAt.After(stored.CreatedAt))

	got, err := b.store.GetTenant(t.Context(), "acme")
	require.NoError(t, err)
	require.Equal(t, want, got)
}

func TestPutTenantClearsMetadata(t *testing.T) {
	t.Parallel()

	b := setup(t)

	tenant, err := subscriptions.NewTenant("acme", subscriptions.TenantParams{
		Metadata: map[string]string{"plan": "pro"},
	})
	require.NoError(t, err)

	_, _, err = b.store.PutTenant(t.Context(), tenant)
	require.NoError(t, err)

	cleared, err := subscriptions.NewTenant("acme", subscriptions.TenantParams{})
	require.NoError(t, err)

	stored, _, err := b.store.PutTenant(t.Context(), cleared)
	require.NoError(t, err)
	require.Equal(t, map[string]string{}, stored.Metadata)
	require.Empty(t, stored.Name)
}

func TestGetTenantNotFound(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")

	for _, id := range []string{"other", "ACME", "acme ", ""} {
		_, err := b.store.GetTenant(t.Context(), id)
		require.ErrorIs(t, err, subscriptions.ErrTenantNotFound, "id %q", id)
	}
}

func TestListTenants(t *testing.T) {
	t.Parallel()

	b := setup(t)

	tenants, err := b.store.ListTenants(t.Context(), "", 10)
	require.NoError(t, err)
	require.Empty(t, tenants)

	// Byte order, whatever the database's collation: digits, upper case,
	// '_', then lower case.
	for _, id := range []string{"b", "a", "B", "_x", "a.1", "Z", "0", "a-1"} {
		b.putTenant(t, id)
	}

	tests := []struct {
		name  string
		after string
		limit int
		want  []string
	}{
		{name: "all", after: "", limit: 100, want: []string{"0", "B", "Z", "_x", "a", "a-1", "a.1", "b"}},
		{name: "first page", after: "", limit: 3, want: []string{"0", "B", "Z"}},
		{name: "second page", after: "Z", limit: 3, want: []string{"_x", "a", "a-1"}},
		{name: "last page", after: "a-1", limit: 3, want: []string{"a.1", "b"}},
		{name: "past the end", after: "b", limit: 3, want: nil},
		{name: "after an id that does not exist", after: "A", limit: 2, want: []string{"B", "Z"}},
		{name: "upper case before lower case", after: "B", limit: 1, want: []string{"Z"}},
		{name: "zero limit", after: "", limit: 0, want: nil},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			tenants, err := b.store.ListTenants(t.Context(), tt.after, tt.limit)
			require.NoError(t, err)

			var ids []string
			for _, tenant := range tenants {
				ids = append(ids, tenant.ID)
				require.Equal(t, "Tenant "+tenant.ID, tenant.Name)
				require.Equal(t, time.UTC, tenant.CreatedAt.Location())
			}

			require.Equal(t, tt.want, ids)
		})
	}
}

func TestDeleteTenant(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")
	b.putTenant(t, "other")

	gone := []subscriptions.Endpoint{b.createEndpoint(t, "acme"), b.createEndpoint(t, "acme")}
	kept := b.createEndpoint(t, "other")

	require.NoError(t, b.store.DeleteTenant(t.Context(), "acme"))

	_, err := b.store.GetTenant(t.Context(), "acme")
	require.ErrorIs(t, err, subscriptions.ErrTenantNotFound)

	for _, e := range gone {
		_, err := b.store.GetEndpoint(t.Context(), "acme", e.ID)
		require.ErrorIs(t, err, subscriptions.ErrEndpointNotFound)
	}

	var count int
	require.NoError(t, b.db.Pool.QueryRow(t.Context(),
		"SELECT count(*) FROM endpoints WHERE tenant_id = 'acme'").Scan(&count))
	require.Zero(t, count)

	got, err := b.store.GetEndpoint(t.Context(), "other", kept.ID)
	require.NoError(t, err)
	require.Equal(t, kept, got)

	err = b.store.DeleteTenant(t.Context(), "acme")
	require.ErrorIs(t, err, subscriptions.ErrTenantNotFound)
}
