package sqlite_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/signing"
	"github.com/heraldhq/herald/internal/subscriptions"
)

// TestStorageForm checks the types the columns hold: times in Unix
// microseconds, booleans as integers, collections as JSON text.
func TestStorageForm(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putAcme(t)
	e := b.addEndpoint(t)

	next, err := signing.NewSecret()
	require.NoError(t, err)

	_, err = b.store.UpdateEndpoint(t.Context(), acme, e.ID, func(e *subscriptions.Endpoint) error {
		e.RotateSecret(next)
		e.PreviousSecrets[0].ExpiresAt = time.UnixMicro(42)

		return nil
	})
	require.NoError(t, err)

	var (
		createdAt, disabled int64
		types, form         string
	)

	err = b.db.QueryRowContext(t.Context(), `SELECT created_at, disabled,
		typeof(created_at) || typeof(disabled) || typeof(event_types) || typeof(previous_secrets),
		previous_secrets ->> '$[0].expires_at'
		FROM endpoints`).Scan(&createdAt, &disabled, &types, &form)
	require.NoError(t, err)
	require.Equal(t, e.CreatedAt.UnixMicro(), createdAt)
	require.Zero(t, disabled)
	require.Equal(t, "integerintegertexttext", types)
	require.Equal(t, "42", form)
}

// TestNilCollections checks that a nil map or slice is refused, as
// PostgreSQL refuses it, rather than stored as JSON null.
func TestNilCollections(t *testing.T) {
	t.Parallel()

	b := setup(t)

	_, _, err := b.store.PutTenant(t.Context(), subscriptions.Tenant{ID: acme})
	require.ErrorContains(t, err, "NOT NULL constraint failed: tenants.metadata")

	b.putAcme(t)

	e, err := subscriptions.NewEndpoint(acme, subscriptions.EndpointParams{URL: "https://example.com"})
	require.NoError(t, err)

	e.EventTypes = nil
	require.ErrorContains(t, b.store.CreateEndpoint(t.Context(), e), "NOT NULL constraint failed: endpoints.event_types")
}
