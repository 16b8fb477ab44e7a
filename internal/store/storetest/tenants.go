package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/subscriptions"
)

// The tenants the tests make, and one they never make.
const (
	acme    = "acme"
	other   = "other"
	unknown = "ghost"
)

// putTenant stores a new tenant with id, named "Tenant <id>".
func (b *bundle) putTenant(t *testing.T, id string) subscriptions.Tenant {
	t.Helper()

	tenant, err := subscriptions.NewTenant(id, subscriptions.TenantParams{Name: "Tenant " + id})
	require.NoError(t, err)

	stored, created, err := b.Store.PutTenant(t.Context(), tenant)
	require.NoError(t, err)
	require.True(t, created)

	return stored
}

func (s suite) tenants(t *testing.T) {
	t.Parallel()

	t.Run("put creates then updates", s.putTenantCreatesThenUpdates)
	t.Run("put clears name and metadata", s.putTenantClears)
	t.Run("concurrent puts create once", s.putTenantConcurrently)
	t.Run("times read back in UTC", s.tenantTimesInUTC)
	t.Run("get unknown", s.getTenantNotFound)
	t.Run("list in byte order", s.listTenants)
	t.Run("delete removes endpoints and messages", s.deleteTenant)
}

func (s suite) putTenantCreatesThenUpdates(t *testing.T) {
	t.Parallel()

	b := s.setup(t)

	tenant, err := subscriptions.NewTenant(acme, subscriptions.TenantParams{
		Name:     "Acme Corp — «prod»",
		Metadata: map[string]string{"plan": "pro", "region": "eu"},
	})
	require.NoError(t, err)

	stored, created, err := b.Store.PutTenant(t.Context(), tenant)
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, tenant, stored)

	got, err := b.Store.GetTenant(t.Context(), acme)
	require.NoError(t, err)
	require.Equal(t, tenant, got)

	time.Sleep(time.Millisecond) // so that the update has a later time

	update, err := subscriptions.NewTenant(acme, subscriptions.TenantParams{
		Name:     "Acme Renamed",
		Metadata: map[string]string{"tier": "enterprise"},
	})
	require.NoError(t, err)

	stored, created, err = b.Store.PutTenant(t.Context(), update)
	require.NoError(t, err)
	require.False(t, created)

	want := update
	want.CreatedAt = tenant.CreatedAt
	require.Equal(t, want, stored)
	require.True(t, stored.UpdatedAt.After(stored.CreatedAt))

	got, err = b.Store.GetTenant(t.Context(), acme)
	require.NoError(t, err)
	require.Equal(t, want, got)
}

func (s suite) putTenantClears(t *testing.T) {
	t.Parallel()

	b := s.setup(t)

	tenant, err := subscriptions.NewTenant(acme, subscriptions.TenantParams{
		Name:     "Acme",
		Metadata: map[string]string{"plan": "pro"},
	})
	require.NoError(t, err)

	_, _, err = b.Store.PutTenant(t.Context(), tenant)
	require.NoError(t, err)

	cleared, err := subscriptions.NewTenant(acme, subscriptions.TenantParams{})
	require.NoError(t, err)

	stored, created, err := b.Store.PutTenant(t.Context(), cleared)
	require.NoError(t, err)
	require.False(t, created)
	require.Empty(t, stored.Name)
	require.Equal(t, map[string]string{}, stored.Metadata)

	got, err := b.Store.GetTenant(t.Context(), acme)
	require.NoError(t, err)
	require.Equal(t, stored, got)
}

// putTenantConcurrently puts one new tenant from several goroutines at
// once: exactly one of them creates it.
func (s suite) putTenantConcurrently(t *testing.T) {
	t.Parallel()

	const writers = 5

	var (
		b       = s.setup(t)
		created = make([]bool, writers)
		errs    = make([]error, writers)
		start   = make(chan struct{})
		wg      sync.WaitGroup
	)

	for i := range writers {
		tenant, err := subscriptions.NewTenant(acme, subscriptions.TenantParams{Name: "Acme"})
		require.NoError(t, err)

		wg.Go(func() {
			<-start

			_, created[i], errs[i] = b.Store.PutTenant(t.Context(), tenant)
		})
	}

	close(start)
	wg.Wait()

	creators := 0

	for i := range writers {
		require.NoError(t, errs[i])

		if created[i] {
			creators++
		}
	}

	require.Equal(t, 1, creators)
}

// tenantTimesInUTC checks that times written in another zone read back as
// the same instants in UTC, to the microsecond.
func (s suite) tenantTimesInUTC(t *testing.T) {
	t.Parallel()

	b := s.setup(t)

	var (
		zone    = time.FixedZone("UTC+5:30", 5*3600+1800)
		created = time.Date(2024, 2, 29, 23, 59, 59, 123456000, zone)
		updated = time.Date(2024, 3, 1, 0, 0, 0, 1000, zone)
	)

	tenant, err := subscriptions.NewTenant(acme, subscriptions.TenantParams{})
	require.NoError(t, err)

	tenant.CreatedAt, tenant.UpdatedAt = created, updated

	want := tenant
	want.CreatedAt, want.UpdatedAt = created.UTC(), updated.UTC()

	stored, _, err := b.Store.PutTenant(t.Context(), tenant)
	require.NoError(t, err)
	require.Equal(t, want, stored)

	got, err := b.Store.GetTenant(t.Context(), acme)
	require.NoError(t, err)
	require.Equal(t, want, got)

	list, err := b.Store.ListTenants(t.Context(), "", 10)
	require.NoError(t, err)
	require.Equal(t, []subscriptions.Tenant{want}, list)
}

func (s suite) getTenantNotFound(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)

	for _, id := range []string{other, "ACME", "acme ", "acm", ""} {
		_, err := b.Store.GetTenant(t.Context(), id)
		require.ErrorIs(t, err, subscriptions.ErrTenantNotFound, "id %q", id)
	}
}

func (s suite) listTenants(t *testing.T) {
	t.Parallel()

	b := s.setup(t)

	tenants, err := b.Store.ListTenants(t.Context(), "", 10)
	require.NoError(t, err)
	require.Empty(t, tenants)

	// Byte order, whatever the database's collation: digits, upper case,
	// '_', then lower case.
	for _, id := range []string{"b", "a", "B", "_x", "a.1", "Z", "0", "a-1"} {
		b.putTenant(t, id)
	}

	sorted := []string{"0", "B", "Z", "_x", "a", "a-1", "a.1", "b"}

	tests := []struct {
		name  string
		after string
		limit int
		want  []string
	}{
		{name: "every tenant", limit: 100, want: sorted},
		{name: "first three", limit: 3, want: sorted[:3]},
		{name: "three after Z", after: "Z", limit: 3, want: sorted[3:6]},
		{name: "the last two", after: sorted[5], limit: 3, want: sorted[6:]},
		{name: "after the last", after: "b", limit: 3},
		{name: "after an id that does not exist", after: "A", limit: 2, want: []string{"B", "Z"}},
		{name: "upper case before lower case", after: "B", limit: 3, want: []string{"Z", "_x", "a"}},
		{name: "zero limit", limit: 0},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			tenants, err := b.Store.ListTenants(t.Context(), tt.after, tt.limit)
			require.NoError(t, err)

			var ids []string
			for _, tenant := range tenants {
				ids = append(ids, tenant.ID)
				require.Equal(t, "Tenant "+tenant.ID, tenant.Name)
			}

			require.Equal(t, tt.want, ids)
		})
	}
}

func (s suite) deleteTenant(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	b.putTenant(t, acme)
	b.putTenant(t, other)

	gone := []subscriptions.Endpoint{b.createEndpoint(t, acme), b.createEndpoint(t, acme)}
	kept := b.createEndpoint(t, other)
	m := b.publish(t, newMessage(t, acme, eventType, eventID, "{}")).Message

	require.NoError(t, b.Store.DeleteTenant(t.Context(), acme))

	_, err := b.Store.GetTenant(t.Context(), acme)
	require.ErrorIs(t, err, subscriptions.ErrTenantNotFound)

	err = b.Store.DeleteTenant(t.Context(), acme)
	require.ErrorIs(t, err, subscriptions.ErrTenantNotFound)

	_, err = b.Store.ListEndpoints(t.Context(), acme, "", 10)
	require.ErrorIs(t, err, subscriptions.ErrTenantNotFound)

	list, err := b.Store.ListTenants(t.Context(), "", 10)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, other, list[0].ID)

	// Made again, the tenant starts empty: its endpoints and messages were
	// deleted with it, not merely hidden.
	b.putTenant(t, acme)

	endpoints, err := b.Store.ListEndpoints(t.Context(), acme, "", 10)
	require.NoError(t, err)
	require.Empty(t, endpoints)

	for _, e := range gone {
		_, err := b.Store.GetEndpoint(t.Context(), acme, e.ID)
		require.ErrorIs(t, err, subscriptions.ErrEndpointNotFound)
	}

	_, _, err = b.Store.GetMessage(t.Context(), acme, m.ID)
	require.ErrorIs(t, err, messages.ErrNotFound)

	// The event id is free again.
	p := b.publish(t, newMessage(t, acme, eventType, eventID, `{"again": true}`))
	require.NotEqual(t, m.ID, p.Message.ID)

	got, err := b.Store.GetEndpoint(t.Context(), other, kept.ID)
	require.NoError(t, err)
	require.Equal(t, kept, got)

	err = b.Store.DeleteTenant(t.Context(), unknown)
	require.ErrorIs(t, err, subscriptions.ErrTenantNotFound)
}
