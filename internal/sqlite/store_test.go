package sqlite_test

import (
	"context"
	"database/sql"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/schema"
	"github.com/heraldhq/herald/internal/sqlite"
	"github.com/heraldhq/herald/internal/store/storetest"
	"github.com/heraldhq/herald/internal/subscriptions"
)

// acme is the tenant most tests store things of.
const acme = "acme"

type testBundle struct {
	db    *sql.DB
	store *sqlite.Store
}

// setup opens a migrated SQLite file of the test's own. Its store enqueues
// nothing and succeeds.
func setup(t *testing.T) *testBundle {
	t.Helper()

	db := openMigrated(t)
	s := sqlite.New(db).WithEnqueue(storetest.EnqueueFunc[*sql.Tx](func(context.Context, *sql.Tx, []messages.Ref) error { return nil }))

	return &testBundle{db: db, store: s}
}

// template is a database file migrated once for the package, which
// openMigrated copies for each test.
var template string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "herald-sqlite-test")
	if err != nil {
		panic(err)
	}

	template = filepath.Join(dir, "template.db")
	if err := migrate(template); err != nil {
		_ = os.RemoveAll(dir)
		panic(err)
	}

	code := m.Run()

	_ = os.RemoveAll(dir)

	os.Exit(code)
}

// migrate creates the database file at path with every migration applied.
// Closing it folds the write-ahead log into the file, which can then be
// copied alone.
func migrate(path string) error {
	ctx := context.Background()

	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}

	if err := schema.UpSQLite(ctx, db, slog.New(slog.DiscardHandler)); err != nil {
		_ = db.Close()
		return err
	}

	return db.Close()
}

// openMigrated opens a migrated SQLite file of the test's own.
func openMigrated(t *testing.T) *sql.DB {
	t.Helper()

	data, err := os.ReadFile(template)
	require.NoError(t, err)

	path := filepath.Join(t.TempDir(), "herald.db")
	require.NoError(t, os.WriteFile(path, data, 0o600))

	db, err := sqlite.Open(t.Context(), path)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })

	return db
}

// putAcme stores the tenant acme.
func (b *testBundle) putAcme(t *testing.T) {
	t.Helper()

	tenant, err := subscriptions.NewTenant(acme, subscriptions.TenantParams{Name: "Acme"})
	require.NoError(t, err)

	_, created, err := b.store.PutTenant(t.Context(), tenant)
	require.NoError(t, err)
	require.True(t, created)
}

// addEndpoint stores a new endpoint of the tenant acme that takes every
// event type.
func (b *testBundle) addEndpoint(t *testing.T) subscriptions.Endpoint {
	t.Helper()

	e, err := subscriptions.NewEndpoint(acme, subscriptions.EndpointParams{URL: "https://hooks.example.com/acme"})
	require.NoError(t, err)
	require.NoError(t, b.store.CreateEndpoint(t.Context(), e))

	return e
}

// publish publishes a new message of the tenant acme without an event id
// and returns it.
func (b *testBundle) publish(t *testing.T) messages.Message {
	t.Helper()

	m := newMessage(t, "a.b", "", "{}")

	_, err := b.store.PublishMessage(t.Context(), m)
	require.NoError(t, err)

	return m
}

// newMessage returns a new message of the tenant acme.
func newMessage(t *testing.T, eventType, eventID, payload string) messages.Message {
	t.Helper()

	m, err := messages.New(acme, messages.Params{EventType: eventType, EventID: eventID, Payload: []byte(payload)}, 0)
	require.NoError(t, err)

	return m
}

// count returns the number of rows of table.
func (b *testBundle) count(t *testing.T, table string) int {
	t.Helper()

	var n int
	require.NoError(t, b.db.QueryRowContext(t.Context(), "SELECT count(*) FROM "+table).Scan(&n))

	return n
}

// TestClosedDatabase checks that every method reports a database that
// fails, and never mistakes the failure for a missing resource.
func TestClosedDatabase(t *testing.T) {
	t.Parallel()

	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "herald.db"))
	require.NoError(t, err)
	require.NoError(t, db.Close())

	var (
		ctx = t.Context()
		s   = sqlite.New(db).WithEnqueue(storetest.EnqueueFunc[*sql.Tx](func(context.Context, *sql.Tx, []messages.Ref) error { return nil }))
		e   = subscriptions.Endpoint{TenantID: acme}
		a   = messages.Attempt{}
	)

	_, _, putErr := s.PutTenant(ctx, subscriptions.Tenant{ID: acme})
	_, getTenantErr := s.GetTenant(ctx, acme)
	_, listTenantsErr := s.ListTenants(ctx, "", 10)
	_, getEndpointErr := s.GetEndpoint(ctx, acme, "ep")
	_, listEndpointsErr := s.ListEndpoints(ctx, acme, "", 10)
	_, updateErr := s.UpdateEndpoint(ctx, acme, "ep", func(*subscriptions.Endpoint) error { return nil })
	_, pruneErr := s.PruneExpiredSecrets(ctx, time.Now())
	_, publishErr := s.PublishMessage(ctx, messages.Message{TenantID: acme})
	_, _, getMessageErr := s.GetMessage(ctx, acme, "msg")
	_, messageAttemptsErr := s.ListMessageAttempts(ctx, acme, "msg", "", 10)
	_, endpointAttemptsErr := s.ListEndpointAttempts(ctx, acme, "ep", messages.AttemptFilter{}, "", 10)
	_, loadErr := s.LoadTarget(ctx, "msg", "ep")
	_, firstKeyErr := s.CreateFirstAPIKey(ctx, auth.Key{})
	_, hashesErr := s.APIKeyHashes(ctx)
	_, deliveriesErr := s.ListDeliveries(ctx, acme, messages.DeliveryFilter{}, messages.DeliveryKey{}, 10)
	_, healthErr := s.EndpointHealth(ctx, acme, "ep")
	_, resendErr := s.Resend(ctx, messages.Replay{TenantID: acme})
	_, replaysErr := s.ListReplays(ctx, acme, "msg", 10)
	_, createRecoveryErr := s.CreateRecovery(ctx, messages.Recovery{TenantID: acme})
	_, getRecoveryErr := s.GetRecovery(ctx, acme, "ep", "rcv")
	_, listRecoveriesErr := s.ListRecoveries(ctx, acme, "ep", "", 10)
	_, recoverErr := s.RecoverNext(ctx, "rcv", 10)
	_, getSessionErr := s.GetSession(ctx, auth.Hash("token"), time.Now())

	for i, err := range []error{
		s.Ping(ctx), putErr, getTenantErr, listTenantsErr, s.DeleteTenant(ctx, acme),
		s.CreateEndpoint(ctx, e), getEndpointErr, listEndpointsErr, updateErr,
		s.DeleteEndpoint(ctx, acme, "ep"), pruneErr, publishErr, getMessageErr, messageAttemptsErr,
		endpointAttemptsErr, loadErr, s.RecordAttempt(ctx, a, messages.StatusPending, ""),
		s.RecordGone(ctx, a, "gone"),
		s.FailDelivery(ctx, messages.Failure{MessageID: "msg", EndpointID: "ep", Reason: "old"}),
		s.DisableEndpoint(ctx, "ep", "off"), firstKeyErr, hashesErr, deliveriesErr, healthErr,
		s.RecordBreakerState(ctx, "ep", "open", time.Now()), resendErr, replaysErr,
		createRecoveryErr, getRecoveryErr, listRecoveriesErr, recoverErr,
		s.CreateSession(ctx, auth.Session{}), getSessionErr, s.DeleteSession(ctx, auth.Hash("token")),
	} {
		require.ErrorContains(t, err, "sql: database is closed", "call %d", i)
	}
}

// TestNegativeLimit checks that a negative page size is refused, as
// PostgreSQL refuses it, rather than read by SQLite as no limit at all.
func TestNegativeLimit(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putAcme(t)
	e := b.addEndpoint(t)
	m := b.publish(t)

	var (
		ctx                = t.Context()
		_, tenantsErr      = b.store.ListTenants(ctx, "", -1)
		_, endpointsErr    = b.store.ListEndpoints(ctx, acme, "", -1)
		_, msgAttemptsErr  = b.store.ListMessageAttempts(ctx, acme, m.ID, "", -1)
		_, endpAttemptsErr = b.store.ListEndpointAttempts(ctx, acme, e.ID, messages.AttemptFilter{}, "", -1)
		_, deliveriesErr   = b.store.ListDeliveries(ctx, acme, messages.DeliveryFilter{}, messages.DeliveryKey{}, -1)
		_, replaysErr      = b.store.ListReplays(ctx, acme, m.ID, -1)
		_, recoveriesErr   = b.store.ListRecoveries(ctx, acme, e.ID, "", -1)
	)

	for i, err := range []error{
		tenantsErr, endpointsErr, msgAttemptsErr, endpAttemptsErr, deliveriesErr, replaysErr, recoveriesErr,
	} {
		require.ErrorContains(t, err, "limit -1 is negative", "call %d", i)
	}
}

// TestFailDeliveryTime checks that a delivery given up without an attempt
// is dated when it was given up.
func TestFailDeliveryTime(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putAcme(t)
	e := b.addEndpoint(t)
	m := b.publish(t)
	before := time.Now().Add(-time.Second)

	f := messages.Failure{MessageID: m.ID, EndpointID: e.ID, Reason: "too old"}
	require.NoError(t, b.store.FailDelivery(t.Context(), f))

	_, deliveries, err := b.store.GetMessage(t.Context(), acme, m.ID)
	require.NoError(t, err)
	require.Len(t, deliveries, 1)
	require.Equal(t, messages.StatusFailed, deliveries[0].Status)
	require.WithinDuration(t, time.Now(), deliveries[0].UpdatedAt, time.Since(before))
}
