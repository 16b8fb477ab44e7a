package postgres_test

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/signing"
	"github.com/heraldhq/herald/internal/subscriptions"
	"github.com/heraldhq/herald/internal/validation"
)

func newSecret(t *testing.T) signing.Secret {
	t.Helper()

	s, err := signing.NewSecret()
	require.NoError(t, err)

	return s
}

func TestEndpointRoundTrip(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")

	supplied := newSecret(t)
	e, err := subscriptions.NewEndpoint("acme", subscriptions.EndpointParams{
		URL:            "https://hooks.example.com/herald?x=1&y=é",
		Description:    "Billing — «production»",
		EventTypes:     []string{"invoice.paid", "customer.*", "*"},
		Headers:        map[string]string{"Authorization": "Bearer t0k\"en", "X-Empty": ""},
		Disabled:       true,
		DisabledReason: "paused by ops",
		Secret:         supplied.Encode(),
	})
	require.NoError(t, err)

	e.RotateSecret(newSecret(t))
	e.RotateSecret(newSecret(t))
	require.Len(t, e.PreviousSecrets, 2)
	require.Equal(t, supplied, e.PreviousSecrets[0].Secret)

	require.NoError(t, b.store.CreateEndpoint(t.Context(), e))

	got, err := b.store.GetEndpoint(t.Context(), "acme", e.ID)
	require.NoError(t, err)
	require.Equal(t, e, got)

	list, err := b.store.ListEndpoints(t.Context(), "acme", "", 10)
	require.NoError(t, err)
	require.Equal(t, []subscriptions.Endpoint{e}, list)
}

func TestEndpointRoundTripDefaults(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")

	e := b.createEndpoint(t, "acme")
	require.Empty(t, e.PreviousSecrets)

	got, err := b.store.GetEndpoint(t.Context(), "acme", e.ID)
	require.NoError(t, err)
	require.Equal(t, e, got)
	require.Equal(t, []string{}, got.EventTypes)
	require.Equal(t, map[string]string{}, got.Headers)
}

// TestEndpointTimesInUTC checks that times written in another zone read
// back as the same instants in UTC.
func TestEndpointTimesInUTC(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")

	var (
		zone    = time.FixedZone("UTC+5:30", 5*3600+1800)
		created = time.Date(2024, 2, 29, 23, 59, 59, 123456000, zone)
		expires = time.Date(2024, 3, 1, 6, 0, 0, 999999000, zone)
	)

	e := b.createEndpoint(t, "acme")
	e.ID = "ep_01jbq6q6ffe5x9qf2a8n1c3m4z"
	e.CreatedAt, e.UpdatedAt, e.SecretCreatedAt = created, created, created
	e.PreviousSecrets = []subscriptions.PreviousSecret{{Secret: newSecret(t), ExpiresAt: expires}}
	require.NoError(t, b.store.CreateEndpoint(t.Context(), e))

	got, err := b.store.GetEndpoint(t.Context(), "acme", e.ID)
	require.NoError(t, err)

	for _, tm := range []time.Time{got.CreatedAt, got.UpdatedAt, got.SecretCreatedAt} {
		require.Equal(t, created.UTC(), tm)
	}

	require.Equal(t, expires.UTC(), got.PreviousSecrets[0].ExpiresAt)
}

func TestCreateEndpointUnknownTenant(t *testing.T) {
	t.Parallel()

	b := setup(t)

	e, err := subscriptions.NewEndpoint("ghost", subscriptions.EndpointParams{URL: "https://example.com"})
	require.NoError(t, err)

	err = b.store.CreateEndpoint(t.Context(), e)
	require.ErrorIs(t, err, subscriptions.ErrTenantNotFound)
}

func TestCreateEndpointDuplicateID(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")
	e := b.createEndpoint(t, "acme")

	err := b.store.CreateEndpoint(t.Context(), e)
	require.Error(t, err)
	require.NotErrorIs(t, err, subscriptions.ErrTenantNotFound)
}

func TestGetEndpointNotFound(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")
	b.putTenant(t, "other")
	e := b.createEndpoint(t, "acme")

	tests := []struct {
		name     string
		tenantID string
		id       string
	}{
		{name: "unknown id", tenantID: "acme", id: "ep_01jbq6q6ffe5x9qf2a8n1c3m4z"},
		{name: "another tenant's endpoint", tenantID: "other", id: e.ID},
		{name: "unknown tenant", tenantID: "ghost", id: e.ID},
		{name: "empty id", tenantID: "acme", id: ""},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			_, err := b.store.GetEndpoint(t.Context(), tt.tenantID, tt.id)
			require.ErrorIs(t, err, subscriptions.ErrEndpointNotFound)
		})
	}
}

func TestGetEndpointCorruptSecret(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")
	current := b.createEndpoint(t, "acme")
	previous := b.createEndpoint(t, "acme")

	_, err := b.db.Pool.Exec(t.Context(), "UPDATE endpoints SET secret = 'whsec_bad' WHERE id = $1", current.ID)
	require.NoError(t, err)

	_, err = b.db.Pool.Exec(t.Context(), `UPDATE endpoints SET previous_secrets =
		'[{"key": "nope", "expires_at": "2030-01-01T00:00:00Z"}]' WHERE id = $1`, previous.ID)
	require.NoError(t, err)

	for _, id := range []string{current.ID, previous.ID} {
		_, err = b.store.GetEndpoint(t.Context(), "acme", id)
		require.ErrorIs(t, err, signing.ErrInvalidSecret)
		require.NotErrorIs(t, err, subscriptions.ErrEndpointNotFound)
		require.NotContains(t, err.Error(), "nope")
	}
}

func TestListEndpoints(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")
	b.putTenant(t, "other")
	b.putTenant(t, "empty")

	ids := make([]string, 5)
	for i := range ids {
		ids[i] = b.createEndpoint(t, "acme").ID
	}

	b.createEndpoint(t, "other")
	slices.Sort(ids)

	tests := []struct {
		name  string
		after string
		limit int
		want  []string
	}{
		{name: "all", limit: 10, want: ids},
		{name: "first page", limit: 2, want: ids[:2]},
		{name: "second page", after: ids[1], limit: 2, want: ids[2:4]},
		{name: "last page", after: ids[3], limit: 2, want: ids[4:]},
		{name: "past the end", after: ids[4], limit: 2, want: nil},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			endpoints, err := b.store.ListEndpoints(t.Context(), "acme", tt.after, tt.limit)
			require.NoError(t, err)

			var got []string
			for _, e := range endpoints {
				require.Equal(t, "acme", e.TenantID)
				got = append(got, e.ID)
			}

			require.Equal(t, tt.want, got)
		})
	}

	t.Run("tenant with none", func(t *testing.T) {
		t.Parallel()

		endpoints, err := b.store.ListEndpoints(t.Context(), "empty", "", 10)
		require.NoError(t, err)
		require.Empty(t, endpoints)
	})

	t.Run("unknown tenant", func(t *testing.T) {
		t.Parallel()

		_, err := b.store.ListEndpoints(t.Context(), "ghost", "", 10)
		require.ErrorIs(t, err, subscriptions.ErrTenantNotFound)
	})
}

func TestUpdateEndpoint(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")
	e := b.createEndpoint(t, "acme")

	var (
		url      = "https://new.example.com/hook"
		disabled = true
		reason   = "paused"
		types    = []string{"a.*", "b"}
	)

	patch := subscriptions.EndpointPatch{URL: &url, Disabled: &disabled, DisabledReason: &reason, EventTypes: &types}

	updated, err := b.store.UpdateEndpoint(t.Context(), "acme", e.ID, patch.Apply)
	require.NoError(t, err)

	want := e
	want.URL, want.Disabled, want.DisabledReason, want.EventTypes = url, true, reason, types
	want.UpdatedAt = updated.UpdatedAt
	require.Equal(t, want, updated)
	require.False(t, updated.UpdatedAt.Before(e.UpdatedAt))

	got, err := b.store.GetEndpoint(t.Context(), "acme", e.ID)
	require.NoError(t, err)
	require.Equal(t, updated, got)
}

func TestUpdateEndpointRotates(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")
	e := b.createEndpoint(t, "acme")
	next := newSecret(t)

	updated, err := b.store.UpdateEndpoint(t.Context(), "acme", e.ID, func(e *subscriptions.Endpoint) error {
		e.RotateSecret(next)
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, next, updated.Secret)
	require.Equal(t, []subscriptions.PreviousSecret{
		{Secret: e.Secret, ExpiresAt: updated.SecretCreatedAt.Add(subscriptions.RotationGrace)},
	}, updated.PreviousSecrets)

	got, err := b.store.GetEndpoint(t.Context(), "acme", e.ID)
	require.NoError(t, err)
	require.Equal(t, updated, got)
	require.Equal(t, e.CreatedAt, got.CreatedAt)
}

func TestUpdateEndpointFnError(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")
	e := b.createEndpoint(t, "acme")
	errBoom := errors.New("boom")

	_, err := b.store.UpdateEndpoint(t.Context(), "acme", e.ID, func(e *subscriptions.Endpoint) error {
		e.Description = "not to be written"
		e.RotateSecret(newSecret(t))

		return errBoom
	})
	require.Same(t, errBoom, err)

	// A patch that breaks a rule comes back as its validation error.
	bad := "ftp://example.com"
	_, err = b.store.UpdateEndpoint(t.Context(), "acme", e.ID, subscriptions.EndpointPatch{URL: &bad}.Apply)

	var verr *validation.Error
	require.ErrorAs(t, err, &verr)
	require.Equal(t, "url", verr.Fields[0].Field)

	got, err := b.store.GetEndpoint(t.Context(), "acme", e.ID)
	require.NoError(t, err)
	require.Equal(t, e, got)
}

func TestUpdateEndpointNotFound(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")
	b.putTenant(t, "other")
	e := b.createEndpoint(t, "acme")

	fn := func(*subscriptions.Endpoint) error {
		t.Error("fn called for a missing endpoint")
		return nil
	}

	_, err := b.store.UpdateEndpoint(t.Context(), "acme", "ep_01jbq6q6ffe5x9qf2a8n1c3m4z", fn)
	require.ErrorIs(t, err, subscriptions.ErrEndpointNotFound)

	_, err = b.store.UpdateEndpoint(t.Context(), "other", e.ID, fn)
	require.ErrorIs(t, err, subscriptions.ErrEndpointNotFound)
}

// TestUpdateEndpointConcurrentRotations rotates one endpoint's secret from
// several goroutines at once. The row lock serializes them, so no rotation
// is lost: every secret is either the current one or a previous one.
func TestUpdateEndpointConcurrentRotations(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name      string
		rotations int
	}{
		{name: "within the cap", rotations: 5},
		{name: "beyond the cap", rotations: 8},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			b := setup(t)
			b.putTenant(t, "acme")
			e := b.createEndpoint(t, "acme")

			secrets := make([]signing.Secret, tt.rotations)
			errs := make([]error, tt.rotations)

			var wg sync.WaitGroup
			for i := range secrets {
				secrets[i] = newSecret(t)

				wg.Go(func() {
					_, errs[i] = b.store.UpdateEndpoint(t.Context(), "acme", e.ID, func(e *subscriptions.Endpoint) error {
						e.RotateSecret(secrets[i])
						return nil
					})
				})
			}

			wg.Wait()

			for _, err := range errs {
				require.NoError(t, err)
			}

			got, err := b.store.GetEndpoint(t.Context(), "acme", e.ID)
			require.NoError(t, err)
			require.Len(t, got.PreviousSecrets, 5)

			// Every secret signs once: the original and all but the last
			// rotation's, less the oldest beyond the cap of five.
			all := append([]signing.Secret{e.Secret}, secrets...)
			signers := got.SigningSecrets(time.Now())
			require.Len(t, signers, 6)

			for _, s := range signers {
				require.Contains(t, all, s)
				require.Equal(t, 1, countOf(signers, s))
			}

			if tt.rotations == 5 {
				require.Equal(t, e.Secret, got.PreviousSecrets[0].Secret)
			} else {
				require.NotContains(t, signers, e.Secret)
			}
		})
	}
}

func TestDeleteEndpoint(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")
	b.putTenant(t, "other")
	e := b.createEndpoint(t, "acme")
	kept := b.createEndpoint(t, "acme")

	err := b.store.DeleteEndpoint(t.Context(), "other", e.ID)
	require.ErrorIs(t, err, subscriptions.ErrEndpointNotFound)

	require.NoError(t, b.store.DeleteEndpoint(t.Context(), "acme", e.ID))

	_, err = b.store.GetEndpoint(t.Context(), "acme", e.ID)
	require.ErrorIs(t, err, subscriptions.ErrEndpointNotFound)

	err = b.store.DeleteEndpoint(t.Context(), "acme", e.ID)
	require.ErrorIs(t, err, subscriptions.ErrEndpointNotFound)

	list, err := b.store.ListEndpoints(t.Context(), "acme", "", 10)
	require.NoError(t, err)
	require.Equal(t, []subscriptions.Endpoint{kept}, list)
}

func countOf(secrets []signing.Secret, s signing.Secret) int {
	n := 0

	for _, x := range secrets {
		if slices.Equal(x, s) {
			n++
		}
	}

	return n
}

func TestPruneExpiredSecrets(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme")

	var (
		at      = time.Now().UTC().Truncate(time.Microsecond)
		expired = subscriptions.PreviousSecret{Secret: newSecret(t), ExpiresAt: at.Add(-time.Hour)}
		atEdge  = subscriptions.PreviousSecret{Secret: newSecret(t), ExpiresAt: at}
		live1   = subscriptions.PreviousSecret{Secret: newSecret(t), ExpiresAt: at.Add(time.Microsecond)}
		live2   = subscriptions.PreviousSecret{Secret: newSecret(t), ExpiresAt: at.Add(time.Hour)}
	)

	type secrets = []subscriptions.PreviousSecret

	// Expiring exactly at the pruning time counts as expired; the survivors
	// keep their order.
	endpoints := map[string]struct{ previous, want secrets }{
		"mixed":       {previous: secrets{expired, live2, atEdge, live1}, want: secrets{live2, live1}},
		"all expired": {previous: secrets{atEdge, expired}, want: nil},
		"all live":    {previous: secrets{live1, live2}, want: secrets{live1, live2}},
		"none":        {},
	}

	ids := make(map[string]subscriptions.Endpoint, len(endpoints))

	for name, tt := range endpoints {
		e, err := subscriptions.NewEndpoint("acme", subscriptions.EndpointParams{URL: "https://example.com"})
		require.NoError(t, err)

		e.PreviousSecrets = tt.previous
		require.NoError(t, b.store.CreateEndpoint(t.Context(), e))
		ids[name] = e
	}

	n, err := b.store.PruneExpiredSecrets(t.Context(), at)
	require.NoError(t, err)
	require.Equal(t, int64(2), n)

	for name, tt := range endpoints {
		got, err := b.store.GetEndpoint(t.Context(), "acme", ids[name].ID)
		require.NoError(t, err)
		require.Equal(t, tt.want, got.PreviousSecrets, name)

		want := ids[name]
		want.PreviousSecrets = tt.want
		require.Equal(t, want, got, name)
	}

	n, err = b.store.PruneExpiredSecrets(t.Context(), at)
	require.NoError(t, err)
	require.Zero(t, n)
}
