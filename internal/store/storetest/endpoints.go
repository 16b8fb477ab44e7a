package storetest

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

// unknownEndpoint is a well-formed endpoint id that no test stores.
const unknownEndpoint = "ep_01jbq6q6ffe5x9qf2a8n1c3m4z"

// newEndpoint returns a new endpoint of the tenant, not yet stored, that
// takes every event type.
func newEndpoint(t *testing.T, tenantID string) subscriptions.Endpoint {
	t.Helper()

	e, err := subscriptions.NewEndpoint(tenantID, subscriptions.EndpointParams{
		URL: "https://hooks.example.com/" + tenantID,
	})
	require.NoError(t, err)

	return e
}

// addEndpoint stores a new endpoint of the tenant made from params; the
// URL defaults to one on example.com.
func (b *bundle) addEndpoint(
	t *testing.T, tenantID string, params subscriptions.EndpointParams,
) subscriptions.Endpoint {
	t.Helper()

	if params.URL == "" {
		params.URL = "https://hooks.example.com/" + tenantID
	}

	e, err := subscriptions.NewEndpoint(tenantID, params)
	require.NoError(t, err)
	require.NoError(t, b.Store.CreateEndpoint(t.Context(), e))

	return e
}

// createEndpoint stores a new endpoint of the tenant that takes every
// event type.
func (b *bundle) createEndpoint(t *testing.T, tenantID string) subscriptions.Endpoint {
	t.Helper()

	return b.addEndpoint(t, tenantID, subscriptions.EndpointParams{})
}

func newSecret(t *testing.T) signing.Secret {
	t.Helper()

	s, err := signing.NewSecret()
	require.NoError(t, err)

	return s
}

func (s suite) endpoints(t *testing.T) {
	t.Parallel()

	t.Run("round trip every field", s.endpointRoundTrip)
	t.Run("round trip defaults", s.endpointRoundTripDefaults)
	t.Run("times read back in UTC", s.endpointTimesInUTC)
	t.Run("create for unknown tenant", s.createEndpointUnknownTenant)
	t.Run("create with a taken id", s.createEndpointTakenID)
	t.Run("get unknown", s.getEndpointNotFound)
	t.Run("list in id order", s.listEndpoints)
	t.Run("list empty or missing tenant", s.listEndpointsEmpty)
	t.Run("update applies fn", s.updateEndpoint)
	t.Run("update rotates the secret", s.updateEndpointRotates)
	t.Run("update returns fn's error and writes nothing", s.updateEndpointFnError)
	t.Run("update addresses the row by its arguments", s.updateEndpointKeepsRow)
	t.Run("update unknown", s.updateEndpointNotFound)
	t.Run("concurrent rotations all apply", s.updateEndpointConcurrently)
	t.Run("delete", s.deleteEndpoint)
	t.Run("tenant isolation", s.endpointTenantIsolation)
	t.Run("prune expired secrets", s.pruneExpiredSecrets)
}

func (s suite) endpointRoundTrip(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)

	supplied := newSecret(t)
	e, err := subscriptions.NewEndpoint(acme, subscriptions.EndpointParams{
		URL:            "https://hooks.example.com/herald?x=1&y=é",
		Description:    "Billing — «production»",
		EventTypes:     []string{eventType, "customer.created", "refund.*", "*"},
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

	require.NoError(t, b.Store.CreateEndpoint(t.Context(), e))

	got, err := b.Store.GetEndpoint(t.Context(), acme, e.ID)
	require.NoError(t, err)
	require.Equal(t, e, got)

	list, err := b.Store.ListEndpoints(t.Context(), acme, "", 10)
	require.NoError(t, err)
	require.Equal(t, []subscriptions.Endpoint{e}, list)
}

func (s suite) endpointRoundTripDefaults(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)

	e := b.createEndpoint(t, acme)
	require.Empty(t, e.PreviousSecrets)

	got, err := b.Store.GetEndpoint(t.Context(), acme, e.ID)
	require.NoError(t, err)
	require.Equal(t, e, got)
	require.Equal(t, []string{}, got.EventTypes)
	require.Equal(t, map[string]string{}, got.Headers)
}

// endpointTimesInUTC checks that times written in another zone read back
// as the same instants in UTC, to the microsecond.
func (s suite) endpointTimesInUTC(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)

	var (
		zone    = time.FixedZone("UTC+5:30", 5*3600+1800)
		created = time.Date(2024, 2, 29, 23, 59, 59, 123456000, zone)
		secret  = time.Date(2024, 3, 1, 0, 0, 0, 1000, zone)
		expires = time.Date(2024, 3, 1, 6, 0, 0, 999999000, zone)
	)

	e := newEndpoint(t, acme)
	e.CreatedAt, e.UpdatedAt, e.SecretCreatedAt = created, created.Add(time.Microsecond), secret
	e.PreviousSecrets = []subscriptions.PreviousSecret{{Secret: newSecret(t), ExpiresAt: expires}}
	require.NoError(t, b.Store.CreateEndpoint(t.Context(), e))

	want := e
	want.CreatedAt, want.UpdatedAt, want.SecretCreatedAt = created.UTC(), e.UpdatedAt.UTC(), secret.UTC()
	want.PreviousSecrets = []subscriptions.PreviousSecret{
		{Secret: e.PreviousSecrets[0].Secret, ExpiresAt: expires.UTC()},
	}

	got, err := b.Store.GetEndpoint(t.Context(), acme, e.ID)
	require.NoError(t, err)
	require.Equal(t, want, got)
}

func (s suite) createEndpointUnknownTenant(t *testing.T) {
	t.Parallel()

	b := s.setup(t)

	e := newEndpoint(t, unknown)

	err := b.Store.CreateEndpoint(t.Context(), e)
	require.ErrorIs(t, err, subscriptions.ErrTenantNotFound)

	// Nothing was stored for the tenant to find once it exists.
	b.putTenant(t, unknown)

	_, err = b.Store.GetEndpoint(t.Context(), unknown, e.ID)
	require.ErrorIs(t, err, subscriptions.ErrEndpointNotFound)
}

func (s suite) createEndpointTakenID(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)
	e := b.createEndpoint(t, acme)

	again := e
	again.URL = "https://elsewhere.example.com/"

	err := b.Store.CreateEndpoint(t.Context(), again)
	require.Error(t, err)
	require.NotErrorIs(t, err, subscriptions.ErrTenantNotFound)

	got, err := b.Store.GetEndpoint(t.Context(), acme, e.ID)
	require.NoError(t, err)
	require.Equal(t, e, got)
}

func (s suite) getEndpointNotFound(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)
	b.putTenant(t, other)
	e := b.createEndpoint(t, acme)

	for _, tt := range missing(e.ID, unknownEndpoint) {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			_, err := b.Store.GetEndpoint(t.Context(), tt.tenantID, tt.id)
			require.ErrorIs(t, err, subscriptions.ErrEndpointNotFound)
		})
	}
}

func (s suite) listEndpoints(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)
	b.putTenant(t, other)

	ids := make([]string, 5)
	for i := range ids {
		ids[i] = b.createEndpoint(t, acme).ID
	}

	b.createEndpoint(t, other)
	slices.Sort(ids)

	tests := []struct {
		name  string
		after string
		limit int
		want  []string
	}{
		{name: "every endpoint", limit: 10, want: ids},
		{name: "first two", limit: 2, want: ids[:2]},
		{name: "two after the second", after: ids[1], limit: 2, want: ids[2:4]},
		{name: "the last one", after: ids[3], limit: 2, want: ids[4:]},
		{name: "after the last", after: ids[4], limit: 2},
		{name: "zero limit", limit: 0},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			endpoints, err := b.Store.ListEndpoints(t.Context(), acme, tt.after, tt.limit)
			require.NoError(t, err)

			var got []string
			for _, e := range endpoints {
				require.Equal(t, acme, e.TenantID)
				got = append(got, e.ID)
			}

			require.Equal(t, tt.want, got)
		})
	}
}

// listEndpointsEmpty tells a tenant without endpoints from a missing one.
func (s suite) listEndpointsEmpty(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)

	endpoints, err := b.Store.ListEndpoints(t.Context(), acme, "", 10)
	require.NoError(t, err)
	require.Empty(t, endpoints)

	endpoints, err = b.Store.ListEndpoints(t.Context(), unknown, "", 10)
	require.ErrorIs(t, err, subscriptions.ErrTenantNotFound)
	require.Empty(t, endpoints)
}

func (s suite) updateEndpoint(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)
	e := b.createEndpoint(t, acme)

	time.Sleep(time.Millisecond) // so that the update has a later time

	var (
		url      = "https://new.example.com/hook"
		disabled = true
		reason   = "paused"
		types    = []string{"a.*", "b"}
		headers  = map[string]string{"X-Team": "billing"}
		patch    = subscriptions.EndpointPatch{
			URL: &url, Disabled: &disabled, DisabledReason: &reason, EventTypes: &types, Headers: &headers,
		}
	)

	updated, err := b.Store.UpdateEndpoint(t.Context(), acme, e.ID, patch.Apply)
	require.NoError(t, err)

	want := e
	want.URL, want.Disabled, want.DisabledReason, want.EventTypes, want.Headers = url, true, reason, types, headers
	want.UpdatedAt = updated.UpdatedAt
	require.Equal(t, want, updated)
	require.True(t, updated.UpdatedAt.After(e.UpdatedAt))

	got, err := b.Store.GetEndpoint(t.Context(), acme, e.ID)
	require.NoError(t, err)
	require.Equal(t, updated, got)
}

func (s suite) updateEndpointRotates(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)
	e := b.createEndpoint(t, acme)
	next := newSecret(t)

	updated, err := b.Store.UpdateEndpoint(t.Context(), acme, e.ID, func(e *subscriptions.Endpoint) error {
		e.RotateSecret(next)
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, next, updated.Secret)
	require.Equal(t, []subscriptions.PreviousSecret{
		{Secret: e.Secret, ExpiresAt: updated.SecretCreatedAt.Add(subscriptions.RotationGrace)},
	}, updated.PreviousSecrets)

	got, err := b.Store.GetEndpoint(t.Context(), acme, e.ID)
	require.NoError(t, err)
	require.Equal(t, updated, got)
	require.Equal(t, e.CreatedAt, got.CreatedAt)
}

func (s suite) updateEndpointFnError(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)
	e := b.createEndpoint(t, acme)
	errBoom := errors.New("boom")

	_, err := b.Store.UpdateEndpoint(t.Context(), acme, e.ID, func(e *subscriptions.Endpoint) error {
		e.Description = "not to be written"
		e.RotateSecret(newSecret(t))

		return errBoom
	})
	require.Same(t, errBoom, err)

	// A patch that breaks a rule comes back as its validation error.
	bad := "ftp://example.com"
	_, err = b.Store.UpdateEndpoint(t.Context(), acme, e.ID, subscriptions.EndpointPatch{URL: &bad}.Apply)

	var verr *validation.Error
	require.ErrorAs(t, err, &verr)
	require.Equal(t, "url", verr.Fields[0].Field)

	got, err := b.Store.GetEndpoint(t.Context(), acme, e.ID)
	require.NoError(t, err)
	require.Equal(t, e, got)
}

// updateEndpointKeepsRow lets fn change the endpoint's id, tenant and
// creation time: the store still writes the row named by its arguments,
// and keeps when it was created.
func (s suite) updateEndpointKeepsRow(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)
	b.putTenant(t, other)
	e := b.createEndpoint(t, acme)
	moved := b.createEndpoint(t, other)

	updated, err := b.Store.UpdateEndpoint(t.Context(), acme, e.ID, func(e *subscriptions.Endpoint) error {
		e.ID, e.TenantID, e.CreatedAt = moved.ID, other, e.CreatedAt.Add(-time.Hour)
		e.Description = "written by fn"

		return nil
	})
	require.NoError(t, err)

	want := e
	want.Description = "written by fn"
	require.Equal(t, want, updated)

	got, err := b.Store.GetEndpoint(t.Context(), acme, e.ID)
	require.NoError(t, err)
	require.Equal(t, want, got)

	got, err = b.Store.GetEndpoint(t.Context(), other, moved.ID)
	require.NoError(t, err)
	require.Equal(t, moved, got)
}

func (s suite) updateEndpointNotFound(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)
	b.putTenant(t, other)
	e := b.createEndpoint(t, acme)

	called := false
	fn := func(*subscriptions.Endpoint) error {
		called = true
		return nil
	}

	for _, l := range missing(e.ID, unknownEndpoint) {
		_, err := b.Store.UpdateEndpoint(t.Context(), l.tenantID, l.id, fn)
		require.ErrorIs(t, err, subscriptions.ErrEndpointNotFound, l.name)
	}

	require.False(t, called, "fn called for a missing endpoint")
}

// updateEndpointConcurrently rotates one endpoint's secret from several
// goroutines at once. No rotation is lost: every secret is either the
// current one or a previous one, less the oldest beyond the cap of five.
func (s suite) updateEndpointConcurrently(t *testing.T) {
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

			b := s.setup(t)
			b.putTenant(t, acme)
			e := b.createEndpoint(t, acme)

			secrets := b.rotateConcurrently(t, e, tt.rotations)

			got, err := b.Store.GetEndpoint(t.Context(), acme, e.ID)
			require.NoError(t, err)
			require.Len(t, got.PreviousSecrets, 5)

			// Every secret signs once: the original and every rotation's,
			// less the oldest beyond the cap.
			all := append([]signing.Secret{e.Secret}, secrets...)
			signers := got.SigningSecrets(time.Now())
			require.Len(t, signers, 6)

			for _, secret := range signers {
				require.Contains(t, all, secret)
				require.Equal(t, 1, countOf(signers, secret))
			}

			if tt.rotations == 5 {
				require.Equal(t, e.Secret, got.PreviousSecrets[0].Secret)
			} else {
				require.NotContains(t, signers, e.Secret)
			}
		})
	}
}

// rotateConcurrently rotates e's secret n times at once and returns the
// secrets it rotated in.
func (b *bundle) rotateConcurrently(t *testing.T, e subscriptions.Endpoint, n int) []signing.Secret {
	t.Helper()

	var (
		secrets = make([]signing.Secret, n)
		errs    = make([]error, n)
		start   = make(chan struct{})
		wg      sync.WaitGroup
	)

	for i := range secrets {
		secrets[i] = newSecret(t)

		wg.Go(func() {
			<-start

			_, errs[i] = b.Store.UpdateEndpoint(t.Context(), e.TenantID, e.ID, func(e *subscriptions.Endpoint) error {
				e.RotateSecret(secrets[i])
				return nil
			})
		})
	}

	close(start)
	wg.Wait()

	for _, err := range errs {
		require.NoError(t, err)
	}

	return secrets
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

func (s suite) deleteEndpoint(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)
	e := b.createEndpoint(t, acme)
	kept := b.createEndpoint(t, acme)
	m := b.publish(t, newMessage(t, acme, eventType, "", "{}")).Message

	require.NoError(t, b.Store.DeleteEndpoint(t.Context(), acme, e.ID))

	_, err := b.Store.GetEndpoint(t.Context(), acme, e.ID)
	require.ErrorIs(t, err, subscriptions.ErrEndpointNotFound)

	err = b.Store.DeleteEndpoint(t.Context(), acme, e.ID)
	require.ErrorIs(t, err, subscriptions.ErrEndpointNotFound)

	list, err := b.Store.ListEndpoints(t.Context(), acme, "", 10)
	require.NoError(t, err)
	require.Equal(t, []subscriptions.Endpoint{kept}, list)

	// Its deliveries went with it.
	_, deliveries, err := b.Store.GetMessage(t.Context(), acme, m.ID)
	require.NoError(t, err)
	require.Len(t, deliveries, 1)
	require.Equal(t, kept.ID, deliveries[0].EndpointID)
}

// endpointTenantIsolation checks that a tenant can neither see nor change
// another tenant's endpoints.
func (s suite) endpointTenantIsolation(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)
	b.putTenant(t, other)

	var (
		mine   = b.createEndpoint(t, acme)
		theirs = b.createEndpoint(t, other)
		fn     = func(e *subscriptions.Endpoint) error {
			e.Description = "changed by another tenant"
			return nil
		}
	)

	list, err := b.Store.ListEndpoints(t.Context(), acme, "", 10)
	require.NoError(t, err)
	require.Equal(t, []subscriptions.Endpoint{mine}, list)

	_, err = b.Store.GetEndpoint(t.Context(), acme, theirs.ID)
	require.ErrorIs(t, err, subscriptions.ErrEndpointNotFound)

	_, err = b.Store.UpdateEndpoint(t.Context(), acme, theirs.ID, fn)
	require.ErrorIs(t, err, subscriptions.ErrEndpointNotFound)

	err = b.Store.DeleteEndpoint(t.Context(), acme, theirs.ID)
	require.ErrorIs(t, err, subscriptions.ErrEndpointNotFound)

	got, err := b.Store.GetEndpoint(t.Context(), other, theirs.ID)
	require.NoError(t, err)
	require.Equal(t, theirs, got)
}

func (s suite) pruneExpiredSecrets(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)

	var (
		at      = time.Now().UTC().Truncate(time.Microsecond)
		expired = subscriptions.PreviousSecret{Secret: newSecret(t), ExpiresAt: at.Add(-time.Hour)}
		atEdge  = subscriptions.PreviousSecret{Secret: newSecret(t), ExpiresAt: at}
		live1   = subscriptions.PreviousSecret{Secret: newSecret(t), ExpiresAt: at.Add(time.Microsecond)}
		live2   = subscriptions.PreviousSecret{Secret: newSecret(t), ExpiresAt: at.Add(time.Hour)}
	)

	type secrets = []subscriptions.PreviousSecret

	// Expiring exactly at the pruning time counts as expired; the survivors
	// keep their order, and nothing else about the endpoint changes.
	tests := map[string]struct{ previous, want secrets }{
		"mixed":       {previous: secrets{expired, live2, atEdge, live1}, want: secrets{live2, live1}},
		"all expired": {previous: secrets{atEdge, expired}, want: nil},
		"all live":    {previous: secrets{live1, live2}, want: secrets{live1, live2}},
		"none":        {},
	}

	endpoints := make(map[string]subscriptions.Endpoint, len(tests))

	for name, tt := range tests {
		e := newEndpoint(t, acme)
		e.PreviousSecrets = tt.previous
		require.NoError(t, b.Store.CreateEndpoint(t.Context(), e))
		endpoints[name] = e
	}

	n, err := b.Store.PruneExpiredSecrets(t.Context(), at)
	require.NoError(t, err)
	require.Equal(t, int64(2), n)

	for name, tt := range tests {
		want := endpoints[name]
		want.PreviousSecrets = tt.want

		got, err := b.Store.GetEndpoint(t.Context(), acme, want.ID)
		require.NoError(t, err)
		require.Equal(t, want, got, name)
	}

	n, err = b.Store.PruneExpiredSecrets(t.Context(), at)
	require.NoError(t, err)
	require.Zero(t, n)
}
