package sqlite_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/subscriptions"
)

func TestTenantRoundTrip(t *testing.T) {
	t.Parallel()

	b := setup(t)
	tenant := b.putTenant(t, "acme")

	got, err := b.store.GetTenant(t.Context(), "acme")
	require.NoError(t, err)
	require.Equal(t, tenant, got)
	require.Equal(t, time.UTC, got.CreatedAt.Location())

	update := tenant
	update.Name, update.Metadata = "Acme", map[string]string{}
	update.CreatedAt = tenant.CreatedAt.Add(time.Hour) // ignored: the tenant exists
	update.UpdatedAt = tenant.UpdatedAt.Add(time.Second)

	stored, created, err := b.store.PutTenant(t.Context(), update)
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, tenant.CreatedAt, stored.CreatedAt)
	require.Equal(t, update.UpdatedAt, stored.UpdatedAt)
	require.Equal(t, "Acme", stored.Name)
	require.Equal(t, map[string]string{}, stored.Metadata)

	require.NoError(t, b.store.DeleteTenant(t.Context(), "acme"))
	require.ErrorIs(t, b.store.DeleteTenant(t.Context(), "acme"), subscriptions.ErrTenantNotFound)

	_, err = b.store.GetTenant(t.Context(), "acme")
	require.ErrorIs(t, err, subscriptions.ErrTenantNotFound)
}

// TestListTenantsOrder checks that ids sort byte by byte, upper case
// before '_' before lower case, as PostgreSQL's "C" collation sorts them.
func TestListTenantsOrder(t *testing.T) {
	t.Parallel()

	b := setup(t)
	for _, id := range []string{"b", "_x", "B", "a", "A-1"} {
		b.putTenant(t, id)
	}

	var ids []string

	after := ""

	for {
		page, err := b.store.ListTenants(t.Context(), after, 2)
		require.NoError(t, err)

		if len(page) == 0 {
			break
		}

		for _, tenant := range page {
			ids = append(ids, tenant.ID)
		}

		after = page[len(page)-1].ID
	}

	require.Equal(t, []string{"A-1", "B", "_x", "a", "b"}, ids)

	_, err := b.store.ListTenants(t.Context(), "", -1)
	require.Error(t, err)
}

func TestDeleteTenantCascades(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")
	e := b.addEndpoint(t, subscriptions.EndpointParams{})
	b.publish(t, "invoice.paid", "evt_1")

	require.NoError(t, b.store.DeleteTenant(t.Context(), "acme"))

	_, err := b.store.GetEndpoint(t.Context(), "acme", e.ID)
	require.ErrorIs(t, err, subscriptions.ErrEndpointNotFound)

	for _, table := range []string{"tenants", "endpoints", "messages", "deliveries"} {
		require.Zero(t, b.count(t, table), table)
	}
}

// TestNilCollections checks that a nil map or slice is refused, as
// PostgreSQL refuses it, rather than stored as JSON null.
func TestNilCollections(t *testing.T) {
	t.Parallel()

	b := setup(t)

	_, _, err := b.store.PutTenant(t.Context(), subscriptions.Tenant{ID: acme})
	require.ErrorContains(t, err, "NOT NULL constraint failed: tenants.metadata")

	b.putTenant(t, acme)

	e, err := subscriptions.NewEndpoint(acme, subscriptions.EndpointParams{URL: "https://example.com"})
	require.NoError(t, err)

	e.EventTypes = nil
	require.ErrorContains(t, b.store.CreateEndpoint(t.Context(), e), "NOT NULL constraint failed: endpoints.event_types")
}
