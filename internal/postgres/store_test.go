package postgres_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/postgres"
	"github.com/heraldhq/herald/internal/subscriptions"
	"github.com/heraldhq/herald/internal/testdb"
)

type testBundle struct {
	db    *testdb.DB
	store *postgres.Store
}

func setup(t *testing.T) *testBundle {
	t.Helper()

	db := testdb.New(t)

	return &testBundle{db: db, store: postgres.New(db.Pool)}
}

// putTenant stores a new tenant with id.
func (b *testBundle) putTenant(t *testing.T, id string) subscriptions.Tenant {
	t.Helper()

	tenant, err := subscriptions.NewTenant(id, subscriptions.TenantParams{Name: "Tenant " + id})
	require.NoError(t, err)

	stored, created, err := b.store.PutTenant(t.Context(), tenant)
	require.NoError(t, err)
	require.True(t, created)

	return stored
}

// createEndpoint stores a new endpoint of the tenant.
func (b *testBundle) createEndpoint(t *testing.T, tenantID string) subscriptions.Endpoint {
	t.Helper()

	e, err := subscriptions.NewEndpoint(tenantID, subscriptions.EndpointParams{
		URL: "https://hooks.example.com/" + tenantID,
	})
	require.NoError(t, err)
	require.NoError(t, b.store.CreateEndpoint(t.Context(), e))

	return e
}

func TestPing(t *testing.T) {
	t.Parallel()

	b := setup(t)
	require.NoError(t, b.store.Ping(t.Context()))

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.Error(t, b.store.Ping(ctx))
}
