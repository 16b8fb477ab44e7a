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
	s := sqlite.New(db).WithEnqueue(func(context.Context, *sql.Tx, string, []string) error { return nil })

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

// putTenant stores a new tenant with id.
func (b *testBundle) putTenant(t *testing.T, id string) subscriptions.Tenant {
	t.Helper()

	tenant, err := subscriptions.NewTenant(id, subscriptions.TenantParams{
		Name:     "Tenant " + id,
		Metadata: map[string]string{"plan": "pro"},
	})
	require.NoError(t, err)

	stored, created, err := b.store.PutTenant(t.Context(), tenant)
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, tenant, stored)

	return stored
}

// addEndpoint stores a new endpoint of the tenant acme made from params;
// the URL defaults to one on example.com.
func (b *testBundle) addEndpoint(t *testing.T, params subscriptions.EndpointParams) subscriptions.Endpoint {
	t.Helper()

	if params.URL == "" {
		params.URL = "https://hooks.example.com/acme"
	}

	e, err := subscriptions.NewEndpoint(acme, params)
	require.NoError(t, err)
	require.NoError(t, b.store.CreateEndpoint(t.Context(), e))

	return e
}

// publish publishes a new message of the tenant acme and returns it.
func (b *testBundle) publish(t *testing.T, eventType, eventID string) messages.Published {
	t.Helper()

	m := newMessage(t, acme, eventType, eventID, `{"n": 1}`)

	published, err := b.store.PublishMessage(t.Context(), m)
	require.NoError(t, err)

	return published
}

// newMessage returns a message of the tenant.
func newMessage(t *testing.T, tenantID, eventType, eventID, payload string) messages.Message {
	t.Helper()

	m, err := messages.New(tenantID, messages.Params{
		EventType: eventType,
		EventID:   eventID,
		Payload:   []byte(payload),
	}, 0)
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

func TestPing(t *testing.T) {
	t.Parallel()

	b := setup(t)
	require.NoError(t, b.store.Ping(t.Context()))

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.Error(t, b.store.Ping(ctx))
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
		s   = sqlite.New(db).WithEnqueue(func(context.Context, *sql.Tx, string, []string) error { return nil })
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
	_, endpointAttemptsErr := s.ListEndpointAttempts(ctx, acme, "ep", nil, "", 10)
	_, loadErr := s.LoadTarget(ctx, "msg", "ep")
	_, firstKeyErr := s.CreateFirstAPIKey(ctx, auth.Key{})
	_, hashesErr := s.APIKeyHashes(ctx)

	for i, err := range []error{
		s.Ping(ctx), putErr, getTenantErr, listTenantsErr, s.DeleteTenant(ctx, acme),
		s.CreateEndpoint(ctx, e), getEndpointErr, listEndpointsErr, updateErr,
		s.DeleteEndpoint(ctx, acme, "ep"), pruneErr, publishErr, getMessageErr, messageAttemptsErr,
		endpointAttemptsErr, loadErr, s.RecordAttempt(ctx, a, messages.StatusPending, ""),
		s.RecordGone(ctx, a, "gone"), s.FailDelivery(ctx, "msg", "ep", "old"),
		s.DisableEndpoint(ctx, "ep", "off"), firstKeyErr, hashesErr,
	} {
		require.ErrorContains(t, err, "sql: database is closed", "call %d", i)
	}
}
