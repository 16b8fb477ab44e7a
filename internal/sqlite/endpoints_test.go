package sqlite_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/signing"
	"github.com/heraldhq/herald/internal/subscriptions"
)

// rotated returns e with its secret rotated once, the previous one
// expiring at expires.
func rotated(t *testing.T, e subscriptions.Endpoint, expires time.Time) subscriptions.Endpoint {
	t.Helper()

	next, err := signing.NewSecret()
	require.NoError(t, err)

	e.RotateSecret(next)
	e.PreviousSecrets[len(e.PreviousSecrets)-1].ExpiresAt = expires

	return e
}

func TestEndpointRoundTrip(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")

	e, err := subscriptions.NewEndpoint("acme", subscriptions.EndpointParams{
		URL:            "https://hooks.example.com/acme",
		Description:    "billing",
		EventTypes:     []string{"invoice.*", "customer.created"},
		Headers:        map[string]string{"Authorization": "Bearer t0k\"en", "X-Empty": ""},
		Disabled:       true,
		DisabledReason: "maintenance",
	})
	require.NoError(t, err)

	e = rotated(t, e, e.CreatedAt.Add(time.Hour))
	require.NoError(t, b.store.CreateEndpoint(t.Context(), e))

	got, err := b.store.GetEndpoint(t.Context(), "acme", e.ID)
	require.NoError(t, err)
	require.Equal(t, e, got)

	_, err = b.store.GetEndpoint(t.Context(), "other", e.ID)
	require.ErrorIs(t, err, subscriptions.ErrEndpointNotFound)

	page, err := b.store.ListEndpoints(t.Context(), "acme", "", 10)
	require.NoError(t, err)
	require.Equal(t, []subscriptions.Endpoint{e}, page)

	require.NoError(t, b.store.DeleteEndpoint(t.Context(), "acme", e.ID))
	require.ErrorIs(t, b.store.DeleteEndpoint(t.Context(), "acme", e.ID), subscriptions.ErrEndpointNotFound)
}

// TestCreateEndpointUnknownTenant checks that SQLite's foreign key error
// becomes [subscriptions.ErrTenantNotFound].
func TestCreateEndpointUnknownTenant(t *testing.T) {
	t.Parallel()

	b := setup(t)

	e, err := subscriptions.NewEndpoint("nobody", subscriptions.EndpointParams{URL: "https://example.com"})
	require.NoError(t, err)
	require.ErrorIs(t, b.store.CreateEndpoint(t.Context(), e), subscriptions.ErrTenantNotFound)

	// A duplicate id is no missing tenant.
	b.putTenant(t, "acme")
	e.TenantID = "acme"
	require.NoError(t, b.store.CreateEndpoint(t.Context(), e))

	err = b.store.CreateEndpoint(t.Context(), e)
	require.Error(t, err)
	require.NotErrorIs(t, err, subscriptions.ErrTenantNotFound)
}

func TestListEndpointsEmptyOrMissingTenant(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")

	page, err := b.store.ListEndpoints(t.Context(), "acme", "", 10)
	require.NoError(t, err)
	require.Equal(t, []subscriptions.Endpoint{}, page)

	page, err = b.store.ListEndpoints(t.Context(), "nobody", "", 10)
	require.ErrorIs(t, err, subscriptions.ErrTenantNotFound)
	require.Nil(t, page)
}

func TestUpdateEndpoint(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")
	b.putTenant(t, "other")
	e := b.addEndpoint(t, subscriptions.EndpointParams{})

	got, err := b.store.UpdateEndpoint(t.Context(), "acme", e.ID, func(e *subscriptions.Endpoint) error {
		url := "https://hooks.example.com/new"
		if err := (subscriptions.EndpointPatch{URL: &url}).Apply(e); err != nil {
			return err
		}

		// Neither moves the row nor rewrites its creation.
		e.ID, e.TenantID, e.CreatedAt = "ep_other", "other", time.Time{}

		return nil
	})
	require.NoError(t, err)
	require.Equal(t, e.ID, got.ID)
	require.Equal(t, "acme", got.TenantID)
	require.Equal(t, e.CreatedAt, got.CreatedAt)
	require.Equal(t, "https://hooks.example.com/new", got.URL)

	stored, err := b.store.GetEndpoint(t.Context(), "acme", e.ID)
	require.NoError(t, err)
	require.Equal(t, got, stored)

	// fn's error comes back unchanged, and nothing is stored.
	errStop := errors.New("stop")
	_, err = b.store.UpdateEndpoint(t.Context(), "acme", e.ID, func(e *subscriptions.Endpoint) error {
		e.URL = "https://hooks.example.com/lost"
		return errStop
	})
	require.Equal(t, errStop, err)

	stored, err = b.store.GetEndpoint(t.Context(), "acme", e.ID)
	require.NoError(t, err)
	require.Equal(t, got, stored)

	_, err = b.store.UpdateEndpoint(t.Context(), "other", e.ID, func(*subscriptions.Endpoint) error { return nil })
	require.ErrorIs(t, err, subscriptions.ErrEndpointNotFound)
}

func TestPruneExpiredSecrets(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")

	now := time.Now().UTC().Truncate(time.Microsecond)

	e, err := subscriptions.NewEndpoint("acme", subscriptions.EndpointParams{URL: "https://example.com"})
	require.NoError(t, err)

	for _, expires := range []time.Duration{-time.Hour, 0, time.Hour, 2 * time.Hour} {
		secret, err := signing.NewSecret()
		require.NoError(t, err)

		e.PreviousSecrets = append(e.PreviousSecrets, subscriptions.PreviousSecret{
			Secret: secret, ExpiresAt: now.Add(expires),
		})
	}

	require.NoError(t, b.store.CreateEndpoint(t.Context(), e))

	untouched := b.addEndpoint(t, subscriptions.EndpointParams{})

	n, err := b.store.PruneExpiredSecrets(t.Context(), now)
	require.NoError(t, err)
	require.Equal(t, int64(1), n)

	got, err := b.store.GetEndpoint(t.Context(), "acme", e.ID)
	require.NoError(t, err)
	require.Equal(t, e.PreviousSecrets[2:], got.PreviousSecrets, "the later ones stay, in order")

	n, err = b.store.PruneExpiredSecrets(t.Context(), now.Add(3*time.Hour))
	require.NoError(t, err)
	require.Equal(t, int64(1), n)

	got, err = b.store.GetEndpoint(t.Context(), "acme", e.ID)
	require.NoError(t, err)
	require.Empty(t, got.PreviousSecrets)

	got, err = b.store.GetEndpoint(t.Context(), "acme", untouched.ID)
	require.NoError(t, err)
	require.Equal(t, untouched, got)
}

// TestStorageForm checks the types the columns hold: times in Unix
// microseconds, booleans as integers, collections as JSON text.
func TestStorageForm(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")
	e := rotated(t, b.addEndpoint(t, subscriptions.EndpointParams{}), time.UnixMicro(42))

	_, err := b.store.UpdateEndpoint(t.Context(), "acme", e.ID, func(got *subscriptions.Endpoint) error {
		*got = e
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
